using ProfileUpdate.Api.Http;

namespace ProfileUpdate.Api.Clients;

/// <summary>
/// Which client codes this service answers for: every valid code when no client is configured (development), else only
/// the configured ones.
/// </summary>
public sealed class ClientDirectory(IOptions<ProfileUpdateOptions> options)
{
    private readonly Dictionary<string, ClientOptions> _clients = options.Value.Clients;

    public bool AnyConfigured => _clients.Count > 0;

    /// <summary>A client literally named like the path placeholder is configured, so the placeholder means that client.</summary>
    public bool PlaceholderIsAClient => _clients.ContainsKey(ClientFilter.Placeholder);

    /// <summary>Null when <paramref name="client"/> may be served; else the problem to answer with (400 or 404).</summary>
    public ProblemHttpResult? Refuse(string client)
    {
        if (!ClientCode.IsValid(client))
            return Problems.BadRequest("The client code must be 1-64 letters, digits, '-' or '_', starting with a letter or digit.");
        if (AnyConfigured && !_clients.ContainsKey(client))
            return Problems.Create(StatusCodes.Status404NotFound, $"Client '{client}' is not configured on this service.");
        return null;
    }

    /// <summary>The tokens that open <paramref name="client"/>; empty when it needs none.</summary>
    public IReadOnlyList<string> Tokens(string client) =>
        _clients.TryGetValue(client, out var settings) ? settings.Tokens : [];
}
