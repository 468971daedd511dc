namespace ProfileUpdate.Api.Configuration;

/// <summary>The profile store's in-process helpers.</summary>
public sealed class ProfilesOptions
{
    /// <summary>thirdPartyId → tntId links remembered in process (links never move), so known visitors skip the lookup; 0 turns it off.</summary>
    [Range(0, 10_000_000)] public int LinkCacheSize { get; set; } = 100_000;

    /// <summary>
    /// Opt-in inactivity expiry: a profile not written (single update, bulk row, visit) for this long disappears with its
    /// links, through key expiry renewed by every write (no sweep). Null (the default): profiles live until deleted.
    /// </summary>
    public TimeSpan? Lifetime { get; set; }

    /// <summary>
    /// Partitions a client's profiles are spread over: each profile's keys are hash-tagged with its partition
    /// (<c>{client:pN}</c>, N from a hash of its tntId), so on Redis Cluster a client's profiles occupy this many hash
    /// slots and the change feed keeps one log per partition in the same slot as its profiles (so an entry is written in
    /// the same atomic script as its change). A power of two from 1 to 1024; fixed for the life of a store (a marker key
    /// refuses a service configured otherwise), because it decides every profile's key.
    /// </summary>
    public int Partitions { get; set; } = DefaultPartitions;

    /// <summary>
    /// Measured: with 64 partitions a single client's profiles spread over 3 and 6 cluster masters with the busiest
    /// holding 1.08 and 1.22 × the mean (16 partitions: 1.31 and 1.88); more partitions spread better but make a change
    /// feed cursor longer (one position per partition) and a feed read touch more logs.
    /// </summary>
    public const int DefaultPartitions = 64;

    public const int MaxPartitions = 1024;

    /// <summary>The shortest lifetime accepted: below a second, Redis expiry and a write's round trips are of one size.</summary>
    public static readonly TimeSpan MinLifetime = TimeSpan.FromSeconds(1);

    /// <summary>The longest accepted (10 years): longer is "forever", which leaving it unset says without the cost.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(3650);
}
