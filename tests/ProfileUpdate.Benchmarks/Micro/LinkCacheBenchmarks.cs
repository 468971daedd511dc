using BenchmarkDotNet.Attributes;
using BitFaster.Caching.Lru;
using Microsoft.Extensions.Options;
using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Benchmarks.Micro;

/// <summary>
/// The thirdPartyId link cache on the applier's path: a batch of 512 lookups of known visitors (hits), and a batch of
/// new visitors (miss + add) in a full cache. "Counted" is the cache as it was before the single-update profile
/// (BitFaster's ConcurrentLru, which counts hits and misses), kept here only as the yardstick; "Lru" is the service's
/// LinkCache (FastConcurrentLru, no counters). The earlier hand-written cache (a ConcurrentDictionary emptied when
/// full) measured 21.1 µs per batch of hits and 338 µs per batch of miss + add against ConcurrentLru's 29.5 and 328.
/// </summary>
[MemoryDiagnoser]
public class LinkCacheBenchmarks
{
    private const int Size = 100_000;
    private const int Batch = 512;
    private readonly LinkCache _lru = new(Options.Create(new ProfileUpdateOptions { Profiles = new ProfilesOptions { LinkCacheSize = Size } }));
    private readonly CountedLinkCache _counted = new(Size);
    private string[] _known = [];
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _known = Enumerable.Range(0, Size * 9 / 10).Select(i => $"customer-{i:D7}").ToArray();
        foreach (var id in _known)
        {
            _lru.Add("bench", id, "t");
            _counted.Add("bench", id, "t");
        }
    }

    [Benchmark(Baseline = true)]
    public int CountedHits()
    {
        var found = 0;
        for (var i = 0; i < Batch; i++) found += _counted.TryGet("bench", _known[(i * 7919) % _known.Length], out _) ? 1 : 0;
        return found;
    }

    [Benchmark]
    public int LruHits()
    {
        var found = 0;
        for (var i = 0; i < Batch; i++) found += _lru.TryGet("bench", _known[(i * 7919) % _known.Length], out _) ? 1 : 0;
        return found;
    }

    // Two threads looking up at once, as overlapping applier batches do on two cores: where ConcurrentLru's hit counter
    // is shared state.
    [Benchmark]
    public int CountedHitsTwoThreads() => TwoThreads(CountedHits);

    [Benchmark]
    public int LruHitsTwoThreads() => TwoThreads(LruHits);

    private static int TwoThreads(Func<int> hits)
    {
        var other = Task.Run(hits);
        return hits() + other.GetAwaiter().GetResult();
    }

    [Benchmark]
    public void CountedMissAndAdd()
    {
        for (var i = 0; i < Batch; i++)
        {
            var id = $"new-{_next++}";
            if (!_counted.TryGet("bench", id, out _)) _counted.Add("bench", id, "t");
        }
    }

    [Benchmark]
    public void LruMissAndAdd()
    {
        for (var i = 0; i < Batch; i++)
        {
            var id = $"new-{_next++}";
            if (!_lru.TryGet("bench", id, out _)) _lru.Add("bench", id, "t");
        }
    }

    /// <summary>The service's link cache before the change, verbatim: ConcurrentLru, with its hit and miss counters.</summary>
    private sealed class CountedLinkCache(int capacity)
    {
        private readonly ConcurrentLru<(string Client, string ThirdPartyId), string> _links = new(capacity);

        public bool TryGet(string client, string thirdPartyId, out string tntId) =>
            _links.TryGet((client, thirdPartyId), out tntId!);

        public void Add(string client, string thirdPartyId, string tntId) => _links.AddOrUpdate((client, thirdPartyId), tntId);
    }
}
