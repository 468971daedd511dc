using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Microsoft.Extensions.Options;
using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Http;

namespace ProfileUpdate.Api.Security;

/// <summary>
/// Per-client bearer tokens (spec §5, Adobe's "Require Authentication"): <c>Authorization: Bearer &lt;token&gt;</c> or
/// Adobe's older <c>access_token: &lt;token&gt;</c>. A token is checked only against the tokens of the client the request
/// names, in constant time, so one client's token never opens another. Tokens are never logged.
/// </summary>
/// <remarks>
/// A middleware and an endpoint marker rather than ASP.NET Core's authentication and authorization stack: the rule is
/// one comparison, there are no identities or claims to hand on, and that stack cost about a tenth of the service's CPU
/// per update (a handler built per request, the policy evaluated twice; measured with the load harness).
/// </remarks>
public static class ClientAccess
{
    /// <summary>Marks the endpoints of a group as needing the token of the client they name.</summary>
    public static RouteGroupBuilder RequireClientAccess(this RouteGroupBuilder group) => group.WithMetadata(ClientAccessRequired.Instance);

    /// <summary>Checks tokens for marked endpoints; after routing (it reads the endpoint) and inside the request log.</summary>
    public static IApplicationBuilder UseClientAccess(this IApplicationBuilder app) => app.UseMiddleware<ClientAccessMiddleware>();

    public static IServiceCollection AddClientAccess(this IServiceCollection services) => services.AddHostedService<OpenModeWarning>();

    /// <summary>The client a request is for: the {client} route value (§1, §2) or the client query parameter (§4).</summary>
    public static string? RequestedClient(HttpContext context) =>
        context.GetRouteValue("client") as string ?? (context.Request.Query.TryGetValue("client", out var q) ? q.ToString() : null);

    public static bool IsBulk(PathString path) =>
        path.Value is { } p && (p.EndsWith("/batchUpdate", StringComparison.Ordinal) || p.EndsWith("/batchStatus", StringComparison.Ordinal));

    internal static string? ReadToken(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var value = authorization["Bearer ".Length..].Trim();
            return value.Length == 0 ? null : value;
        }
        var legacy = request.Headers["access_token"].ToString().Trim();
        return legacy.Length == 0 ? null : legacy;
    }

    internal static bool Opens(string token, IEnumerable<string> tokens)
    {
        var presented = Encoding.UTF8.GetBytes(token);
        var match = false;
        foreach (var candidate in tokens)
            match |= CryptographicOperations.FixedTimeEquals(presented, Encoding.UTF8.GetBytes(candidate)); // no early exit
        return match;
    }
}

/// <summary>Endpoint metadata: the endpoint serves one client's data and needs that client's token, if it has any.</summary>
public sealed class ClientAccessRequired
{
    public static readonly ClientAccessRequired Instance = new();
    private ClientAccessRequired() { }
}

internal sealed class ClientAccessMiddleware(RequestDelegate next, IOptions<ProfileUpdateOptions> options)
{
    private readonly Dictionary<string, ClientOptions> _clients = options.Value.Clients;

    public Task InvokeAsync(HttpContext context)
    {
        if (context.GetEndpoint()?.Metadata.GetMetadata<ClientAccessRequired>() is null) return next(context);
        // Unknown or invalid client codes pass here: the endpoint answers them with its own 400/404.
        var client = ClientAccess.RequestedClient(context);
        if (client is null || !_clients.TryGetValue(client, out var settings) || settings.Tokens.Count == 0) return next(context);

        var token = ClientAccess.ReadToken(context.Request);
        return token is not null && ClientAccess.Opens(token, settings.Tokens) ? next(context) : ChallengeAsync(context, token is null);
    }

    private static async Task ChallengeAsync(HttpContext context, bool noToken)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status401Unauthorized;
        response.Headers.WWWAuthenticate = "Bearer realm=\"profile-update\"";
        var message = noToken
            ? "This client requires authentication: send Authorization: Bearer <token> (or the access_token header)."
            : "The token is not valid for this client.";
        if (ClientAccess.IsBulk(context.Request.Path))
        {
            response.ContentType = "application/xml; charset=utf-8";
            await response.WriteAsync(new XElement("response", new XElement("success", "false"), new XElement("batchStatus", ""),
                new XElement("message", message)).ToString(SaveOptions.DisableFormatting));
            return;
        }
        await Problems.Create(StatusCodes.Status401Unauthorized, message).ExecuteAsync(context);
    }
}

/// <summary>Says loudly at start-up when no client is configured, i.e. any client code is served without a token.</summary>
internal sealed class OpenModeWarning(IOptions<ProfileUpdateOptions> options, ILogger<OpenModeWarning> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Clients.Count == 0)
            logger.LogWarning("No clients are configured (ProfileUpdate:Clients): every valid client code is served without authentication. Configure clients and tokens before exposing this service.");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
