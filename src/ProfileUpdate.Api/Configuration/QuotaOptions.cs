namespace ProfileUpdate.Api.Configuration;

/// <summary>The rolling 24-hour single-update quota per client.</summary>
public sealed class QuotaOptions
{
    [AtLeast(1)] public long Limit { get; set; } = 1_000_000;

    /// <summary>Off only for measurements and trusted single-tenant set-ups: no quota call is made at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// How old the latest quota decision this instance saw for a client (its last update batch, or its last look) may be
    /// for a refused update (4xx) to report it in the RateLimit header without asking the store; 0 always asks.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")] public TimeSpan RecentDecisionMaxAge { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a refused update waits for the store's answer when no recent decision is known; past it the 4xx goes out
    /// without the RateLimit header, so an invalid request never waits on a slow or paused store.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:00:02")] public TimeSpan PeekTimeout { get; set; } = TimeSpan.FromMilliseconds(250);
}
