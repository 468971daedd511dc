namespace ProfileUpdate.Api.Configuration;

/// <summary>The profile store's in-process helpers.</summary>
public sealed class ProfilesOptions
{
    /// <summary>thirdPartyId → tntId links remembered in process (links never move), so known visitors skip the lookup; 0 turns it off.</summary>
    [Range(0, 10_000_000)] public int LinkCacheSize { get; set; } = 100_000;
}
