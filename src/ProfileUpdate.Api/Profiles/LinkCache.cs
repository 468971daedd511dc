using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using ProfileUpdate.Api.Configuration;

namespace ProfileUpdate.Api.Profiles;

/// <summary>
/// thirdPartyId → tntId links this process has seen. A link never moves once made (the first link wins and nothing
/// deletes one), so a remembered link stays true and a known visitor's update needs no lookup round trip. Only losing
/// the store's data can make an entry stale: the applier forgets an entry whose profile turns out to be missing.
/// Bounded: when full it starts over (cheap, and the hot visitors come back at once).
/// </summary>
public sealed class LinkCache(IOptions<ProfileUpdateOptions> options)
{
    private readonly ConcurrentDictionary<(string Client, string ThirdPartyId), string> _links = new();
    private readonly int _capacity = options.Value.Profiles.LinkCacheSize;
    private int _count;

    public bool TryGet(string client, string thirdPartyId, out string tntId) =>
        _links.TryGetValue((client, thirdPartyId), out tntId!);

    public void Add(string client, string thirdPartyId, string tntId)
    {
        if (_capacity == 0) return;
        if (Volatile.Read(ref _count) >= _capacity)
        {
            _links.Clear();
            Volatile.Write(ref _count, 0);
        }
        if (_links.TryAdd((client, thirdPartyId), tntId)) Interlocked.Increment(ref _count);
    }

    public void Forget(string client, string thirdPartyId)
    {
        if (_links.TryRemove((client, thirdPartyId), out _)) Interlocked.Decrement(ref _count);
    }
}
