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

    /// <summary>The shortest lifetime accepted: below a second, Redis expiry and a write's round trips are of one size.</summary>
    public static readonly TimeSpan MinLifetime = TimeSpan.FromSeconds(1);

    /// <summary>The longest accepted (10 years): longer is "forever", which leaving it unset says without the cost.</summary>
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(3650);
}
