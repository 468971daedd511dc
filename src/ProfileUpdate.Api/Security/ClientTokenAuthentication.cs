using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Xml.Linq;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Http;

namespace ProfileUpdate.Api.Security;

/// <summary>
/// Per-client bearer tokens (spec §5, Adobe's "Require Authentication"): <c>Authorization: Bearer &lt;token&gt;</c> or
/// Adobe's older <c>access_token: &lt;token&gt;</c>. A token is checked only against the tokens of the client the request
/// names, in constant time, so one client's token never opens another. Tokens are never logged.
/// </summary>
public sealed class ClientTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> schemeOptions,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptions<ProfileUpdateOptions> options) : AuthenticationHandler<AuthenticationSchemeOptions>(schemeOptions, logger, encoder)
{
    public const string SchemeName = "ClientToken";
    public const string ClientClaim = "profileupdate:client";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = ReadToken(Request);
        if (token is null) return Task.FromResult(AuthenticateResult.NoResult());
        var client = ClientAccess.RequestedClient(Context);
        if (client is null || !options.Value.Clients.TryGetValue(client, out var settings) || settings.Tokens.Count == 0)
            return Task.FromResult(AuthenticateResult.NoResult()); // nothing to prove for an open client

        var presented = Encoding.UTF8.GetBytes(token);
        var match = false;
        foreach (var candidate in settings.Tokens)
            match |= CryptographicOperations.FixedTimeEquals(presented, Encoding.UTF8.GetBytes(candidate)); // no early exit
        if (!match) return Task.FromResult(AuthenticateResult.Fail("The token does not open this client."));

        var identity = new ClaimsIdentity([new Claim(ClientClaim, client)], SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer realm=\"profile-update\"";
        var message = ReadToken(Request) is null
            ? "This client requires authentication: send Authorization: Bearer <token> (or the access_token header)."
            : "The token is not valid for this client.";
        if (ClientAccess.IsBulk(Request.Path))
        {
            Response.ContentType = "application/xml; charset=utf-8";
            await Response.WriteAsync(new XElement("response", new XElement("success", "false"), new XElement("batchStatus", ""),
                new XElement("message", message)).ToString(SaveOptions.DisableFormatting));
            return;
        }
        await Problems.Create(StatusCodes.Status401Unauthorized, message).ExecuteAsync(Context);
    }

    private static string? ReadToken(HttpRequest request)
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
}

/// <summary>The authorization rule: a client with tokens needs a request authenticated for that very client.</summary>
public sealed class ClientAccessRequirement : IAuthorizationRequirement;

public sealed class ClientAccessHandler(IOptions<ProfileUpdateOptions> options) : AuthorizationHandler<ClientAccessRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ClientAccessRequirement requirement)
    {
        var httpContext = context.Resource as HttpContext;
        var client = httpContext is null ? null : ClientAccess.RequestedClient(httpContext);
        // Unknown or invalid client codes pass here: the endpoint answers them with its own 400/404.
        if (client is null || !options.Value.Clients.TryGetValue(client, out var settings) || settings.Tokens.Count == 0)
        {
            context.Succeed(requirement);
        }
        else if (context.User.HasClaim(ClientTokenAuthenticationHandler.ClientClaim, client))
        {
            context.Succeed(requirement);
        }
        return Task.CompletedTask;
    }
}

public static class ClientAccess
{
    public const string Policy = "ClientAccess";

    /// <summary>The client a request is for: the {client} route value (§1, §2) or the client query parameter (§4).</summary>
    public static string? RequestedClient(HttpContext context) =>
        context.GetRouteValue("client") as string ?? (context.Request.Query.TryGetValue("client", out var q) ? q.ToString() : null);

    public static bool IsBulk(PathString path) =>
        path.Value is { } p && (p.EndsWith("/batchUpdate", StringComparison.Ordinal) || p.EndsWith("/batchStatus", StringComparison.Ordinal));

    public static IServiceCollection AddClientAccess(this IServiceCollection services)
    {
        services.AddAuthentication(ClientTokenAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ClientTokenAuthenticationHandler>(ClientTokenAuthenticationHandler.SchemeName, null);
        services.AddSingleton<IAuthorizationHandler, ClientAccessHandler>();
        services.AddAuthorizationBuilder().AddPolicy(Policy, p => p.AddRequirements(new ClientAccessRequirement()));
        services.AddHostedService<OpenModeWarning>();
        return services;
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
