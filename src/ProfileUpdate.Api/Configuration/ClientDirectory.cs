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

    /// <summary>The RateLimit-Policy header value (spec §1); the common case, the default limit, is built once.</summary>
    public string RateLimitPolicy(string client)
    {
        var limit = QuotaLimit(client);
        return limit == _options.Quota.Limit ? _defaultPolicy ??= Policy(limit) : Policy(limit);

        static string Policy(long limit) =>
            string.Create(System.Globalization.CultureInfo.InvariantCulture, $"\"updates\";q={limit};w={Quota.QuotaStore.WindowSeconds}");
    }

    private string? _defaultPolicy;

    public long QuotaLimit(string client) =>
        _options.Clients.TryGetValue(client, out var settings) && settings.QuotaLimit is { } limit ? limit : _options.Quota.Limit;
}
