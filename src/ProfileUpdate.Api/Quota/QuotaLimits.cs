using System.Globalization;

namespace ProfileUpdate.Api.Quota;

/// <summary>Each client's quota limit (its own, else the default) and the RateLimit-Policy header that announces it.</summary>
public sealed class QuotaLimits(IOptions<ProfileUpdateOptions> options)
{
    private readonly ProfileUpdateOptions _options = options.Value;

    // One string per limit in use, built once: the header is on every answer of the update endpoint.
    private readonly string _defaultPolicy = Policy(options.Value.Quota.Limit);

    private readonly Dictionary<string, string> _policies = options.Value.Clients
        .Where(c => c.Value.QuotaLimit is not null)
        .ToDictionary(c => c.Key, c => Policy(c.Value.QuotaLimit!.Value), options.Value.Clients.Comparer);

    public bool Enabled => _options.Quota.Enabled;

    public long Limit(string client) =>
        _options.Clients.TryGetValue(client, out var settings) && settings.QuotaLimit is { } limit ? limit : _options.Quota.Limit;

    /// <summary>The RateLimit-Policy header value (IETF RateLimit header fields draft).</summary>
    public string PolicyHeader(string client) => _policies.TryGetValue(client, out var policy) ? policy : _defaultPolicy;

    private static string Policy(long limit) =>
        string.Create(CultureInfo.InvariantCulture, $"\"updates\";q={limit};w={QuotaRepository.WindowSeconds}");
}
