using System.Net;
using System.Security.Cryptography;
using System.Text;
using ProfileUpdate.Api.Http;

namespace ProfileUpdate.Api.Clients;

/// <summary>
/// The one place a request's client is resolved, checked and authenticated, as an endpoint filter on a route group:
/// the client code comes from where the group says (<see cref="ClientSource"/>); an invalid code answers 400, one this
/// service does not serve 404; then, where the group asks for it, the client's bearer token (Adobe's "Require
/// Authentication": <c>Authorization: Bearer &lt;token&gt;</c> or the older <c>access_token</c> header) is checked
/// against that client's tokens only, in constant time, so one client's token never opens another. Tokens are never
/// logged. The handler receives the result as its <see cref="ResolvedClient"/> parameter.
/// </summary>
/// <remarks>
/// An endpoint filter rather than ASP.NET Core's authentication and authorization stack: the rule is one comparison,
/// there are no identities or claims to hand on, and that stack cost about a tenth of the service's CPU per update (a
/// handler built per request, the policy evaluated twice; measured with the load harness).
/// </remarks>
public static class ClientFilter
{
    /// <summary>
    /// Every endpoint of <paramref name="group"/> serves one client's data: the client is resolved from
    /// <paramref name="source"/> and, when <paramref name="authenticate"/>, must present one of its tokens if it has any.
    /// </summary>
    public static RouteGroupBuilder ForClient(this RouteGroupBuilder group, ClientSource source, bool authenticate = true)
    {
        group.WithMetadata(source);
        if (!authenticate) group.WithMetadata(ClientWithoutToken.Instance);
        group.AddEndpointFilterFactory((factory, next) =>
        {
            var index = Array.FindIndex(factory.MethodInfo.GetParameters(), p => p.ParameterType == typeof(ResolvedClient));
            if (index < 0)
                throw new InvalidOperationException(
                    $"{factory.MethodInfo.DeclaringType?.Name}.{factory.MethodInfo.Name} is in a client group but takes no {nameof(ResolvedClient)}.");
            var services = factory.ApplicationServices;
            var clients = services.GetRequiredService<ClientDirectory>();
            var defaultClient = services.GetRequiredService<IOptions<ProfileUpdateOptions>>().Value.DefaultClient;
            var placeholderIsAClient = clients.PlaceholderIsAClient;
            return invocation =>
            {
                var context = invocation.HttpContext;
                // Read as one value, client=a&client=b is "a,b", which the code check would call malformed: say what is wrong.
                if (source != ClientSource.Route && context.Request.Query["client"].Count > 1)
                    return ValueTask.FromResult<object?>(Repeated());
                var code = Resolve(context, source, defaultClient, placeholderIsAClient);
                if (code is null) return ValueTask.FromResult<object?>(Missing(source));
                if (clients.Refuse(code) is { } refusal) return ValueTask.FromResult<object?>(refusal);
                if (authenticate && Challenge(context, clients.Tokens(code)) is { } challenge) return ValueTask.FromResult<object?>(challenge);
                invocation.Arguments[index] = new ResolvedClient(code);
                return next(invocation);
            };
        });
        return group;
    }

    /// <summary>The path segment Adobe's documentation writes where the client code goes (the code is in the host name).</summary>
    public const string Placeholder = "client";

    /// <summary>The client code a request names, or null when it names none.</summary>
    /// <param name="placeholderIsAClient">True when a client named <c>client</c> is configured: then the segment is its code.</param>
    internal static string? Resolve(HttpContext context, ClientSource source, string? defaultClient, bool placeholderIsAClient = false)
    {
        var request = context.Request;
        if (source == ClientSource.Route)
        {
            // Adobe's pages write the path literally as /m2/client/profile/update and put the client code in the host
            // (demo.tt.omtrdc.net): requests copied from them resolve like a visit's, by host, then the default client.
            var segment = request.RouteValues["client"] as string;
            return segment == Placeholder && !placeholderIsAClient
                ? HostLabel(request.Host.Host) ?? defaultClient ?? Placeholder
                : segment;
        }
        if (request.Query.TryGetValue("client", out var fromQuery) && !string.IsNullOrEmpty(fromQuery.ToString()))
            return fromQuery.ToString();
        if (source == ClientSource.Query) return null;
        return HostLabel(request.Host.Host) ?? defaultClient;
    }

    /// <summary>
    /// The leftmost label of a DNS name of three or more labels (CLIENT.tt.omtrdc.net), else null. A fully-qualified name
    /// (demo.tt.omtrdc.net., with the root's trailing dot) names the same host, so one trailing dot is dropped first.
    /// </summary>
    internal static string? HostLabel(string? host)
    {
        if (string.IsNullOrEmpty(host) || IPAddress.TryParse(host.Trim('[', ']'), out _)) return null;
        if (host.EndsWith('.')) host = host[..^1];
        var labels = host.Split('.');
        return labels.Length >= 3 && labels.All(l => l.Length > 0) ? labels[0] : null;
    }

    private static ProblemHttpResult Missing(ClientSource source) => Problems.BadRequest(source == ClientSource.Query
        ? "The query parameter client=<your client code> is required."
        : "No client code: add the query parameter client=<your client code>.");

    private static ProblemHttpResult Repeated() => Problems.BadRequest(
        "The query parameter client is given more than once; give it once: client=<your client code>.");

    /// <summary>Null when the request may pass; else the 401 with its WWW-Authenticate challenge.</summary>
    private static ProblemHttpResult? Challenge(HttpContext context, IReadOnlyList<string> tokens)
    {
        if (tokens.Count == 0) return null;
        var token = ReadToken(context.Request);
        if (token is not null && Opens(token, tokens)) return null;
        context.Response.Headers.WWWAuthenticate = "Bearer realm=\"profile-update\"";
        return Problems.Create(StatusCodes.Status401Unauthorized, token is null
            ? "This client requires authentication: send Authorization: Bearer <token> (or the access_token header)."
            : "The token is not valid for this client.");
    }

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
