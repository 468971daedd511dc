namespace ProfileUpdate.Api.Configuration;

/// <summary>The rolling 24-hour single-update quota per client.</summary>
public sealed class QuotaOptions
{
    [Range(1, long.MaxValue)] public long Limit { get; set; } = 1_000_000;

    /// <summary>Off only for measurements and trusted single-tenant set-ups: no quota call is made at all.</summary>
    public bool Enabled { get; set; } = true;
}
