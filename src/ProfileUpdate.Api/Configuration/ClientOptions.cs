namespace ProfileUpdate.Api.Configuration;

/// <summary>One configured client.</summary>
public sealed class ClientOptions
{
    /// <summary>Overrides <see cref="QuotaOptions.Limit"/> for this client.</summary>
    [AtLeast(1)] public long? QuotaLimit { get; set; }

    /// <summary>Bearer tokens that open this client; several so they can be rotated without downtime.</summary>
    public List<string> Tokens { get; set; } = [];
}
