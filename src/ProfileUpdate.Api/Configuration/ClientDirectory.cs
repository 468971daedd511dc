using Microsoft.Extensions.Options;

namespace ProfileUpdate.Api.Configuration;

/// <summary>Which client codes this service answers for (spec §5): all valid codes when none is configured.</summary>
public sealed class ClientDirectory(IOptions<ProfileUpdateOptions> options)
{
    private readonly ProfileUpdateOptions _options = options.Value;

    public bool AnyConfigured => _options.Clients.Count > 0;

    /// <summary>Null when the client may be served; else the status and message to answer with.</summary>
    public (int Status, string Message)? Check(string? client)
    {
        if (!ClientCode.IsValid(client))
            return (StatusCodes.Status400BadRequest,
                "The client code must be 1-64 letters, digits, '-' or '_', starting with a letter or digit.");
        if (AnyConfigured && !_options.Clients.ContainsKey(client!))
            return (StatusCodes.Status404NotFound, $"Client '{client}' is not configured on this service.");
        return null;
    }

    /// <summary>The RateLimit-Policy header value (spec §1): one string per limit in use, built once (it is on every answer).</summary>
    public string RateLimitPolicy(string client) =>
        _policies.TryGetValue(client, out var policy) ? policy : _defaultPolicy;

    private readonly string _defaultPolicy = Policy(options.Value.Quota.Limit);

    private readonly Dictionary<string, string> _policies = options.Value.Clients
        .Where(c => c.Value.QuotaLimit is not null)
        .ToDictionary(c => c.Key, c => Policy(c.Value.QuotaLimit!.Value), options.Value.Clients.Comparer);

    private static string Policy(long limit) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"\"updates\";q={limit};w={Quota.QuotaStore.WindowSeconds}");

    public long QuotaLimit(string client) =>
        _options.Clients.TryGetValue(client, out var settings) && settings.QuotaLimit is { } limit ? limit : _options.Quota.Limit;
}
