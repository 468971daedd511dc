using BitFaster.Caching.Lru;

namespace ProfileUpdate.Api.Profiles;

/// <summary>
/// thirdPartyId → tntId links this process has seen. A link never moves once made (the first link wins), so a
/// remembered link stays true and a known visitor's update needs no lookup round trip — until its profile is deleted
/// (DELETE, bulk erase, Profiles:Lifetime expiry) or the store loses data. A delete on this instance forgets the links
/// it removed, and a visit replaces the entry with the link it made or confirmed; elsewhere a stale entry leads to a
/// profile that is gone (single updates are update-only: apply.lua deletes a hash it would have created), and the
/// applier then forgets the entry and looks the link up again before answering (UpdateApplier.RetryStaleLinksAsync).
/// Bounded by <see cref="ProfilesOptions.LinkCacheSize"/>: when full, the least recently used links make room
/// (BitFaster's FastConcurrentLru), so the hot visitors stay.
/// </summary>
/// <remarks>
/// Measured against the former hand-written cache (a ConcurrentDictionary emptied completely when full) with
/// <c>tests/ProfileUpdate.Benchmarks/run-micro.sh --job short --filter '*LinkCache*'</c> (2026-12-04, 512 lookups per
/// batch): hits 29.5 µs vs 21.1 µs per batch (about 17 ns more per update, under 0.1% of an update's CPU), miss+add
/// 328 µs vs 338 µs with less garbage. Worth it: a full cache no longer forgets every link at once, which sent the next
/// batches' lookups to Redis in a burst.
/// FastConcurrentLru rather than ConcurrentLru: the latter counts every hit and miss (striped counters nobody here
/// reads), which a CPU profile of the single-update load showed as the applier's most expensive own frame; same
/// benchmark, 2026-12-04: see docs/performance.md.
/// </remarks>
public sealed class LinkCache(IOptions<ProfileUpdateOptions> options)
{
    // ConcurrentLru needs a capacity of at least 3; 0 turns the cache off.
    private readonly FastConcurrentLru<(string Client, string ThirdPartyId), string>? _links =
        options.Value.Profiles.LinkCacheSize == 0 ? null : new(Math.Max(3, options.Value.Profiles.LinkCacheSize));

    /// <summary>Links held now; never more than the configured size (or 3, the least the cache can be).</summary>
    public int Count => _links?.Count ?? 0;

    public bool TryGet(string client, string thirdPartyId, out string tntId)
    {
        if (_links is not null && _links.TryGet((client, thirdPartyId), out var found))
        {
            tntId = found;
            return true;
        }
        tntId = string.Empty;
        return false;
    }

    public void Add(string client, string thirdPartyId, string tntId) => _links?.AddOrUpdate((client, thirdPartyId), tntId);

    /// <summary>
    /// Replaces the link remembered for the id, if one is: a visit corrects what single updates would follow without
    /// filling the cache with visitors that never get one (the cache is for the links updates use).
    /// </summary>
    public void Refresh(string client, string thirdPartyId, string tntId) => _links?.TryUpdate((client, thirdPartyId), tntId);

    public void Forget(string client, string thirdPartyId) => _links?.TryRemove((client, thirdPartyId));
}
