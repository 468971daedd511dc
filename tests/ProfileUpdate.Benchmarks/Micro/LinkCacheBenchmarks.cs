using System.Collections.Concurrent;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Options;
using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Benchmarks.Micro;

/// <summary>
/// The thirdPartyId link cache on the applier's path: a batch of 512 lookups of known visitors (hits), and a batch of
/// new visitors (miss + add) in a full cache. "Former" is the hand-written cache the service used before (a
/// ConcurrentDictionary emptied completely when full), kept here only as the yardstick; "Lru" is the service's
/// LinkCache (BitFaster's ConcurrentLru).
/// </summary>
[MemoryDiagnoser]
public class LinkCacheBenchmarks
{
    private const int Size = 100_000;
    private const int Batch = 512;
    private readonly LinkCache _lru = new(Options.Create(new ProfileUpdateOptions { Profiles = new ProfilesOptions { LinkCacheSize = Size } }));
    private readonly FormerLinkCache _former = new(Size);
    private string[] _known = [];
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        // Hits: ids already held (a little under the size, so the former cache does not start over during the run).
        _known = Enumerable.Range(0, Size * 9 / 10).Select(i => $"customer-{i:D7}").ToArray();
        foreach (var id in _known)
        {
            _lru.Add("bench", id, "t");
            _former.Add("bench", id, "t");
        }
    }

    [Benchmark(Baseline = true)]
    public int FormerHits()
    {
        var found = 0;
        for (var i = 0; i < Batch; i++) found += _former.TryGet("bench", _known[(i * 7919) % _known.Length], out _) ? 1 : 0;
        return found;
    }

    [Benchmark]
    public int LruHits()
    {
        var found = 0;
        for (var i = 0; i < Batch; i++) found += _lru.TryGet("bench", _known[(i * 7919) % _known.Length], out _) ? 1 : 0;
        return found;
    }

    [Benchmark]
    public void FormerMissAndAdd()
    {
        for (var i = 0; i < Batch; i++)
        {
            var id = $"new-{_next++}";
            if (!_former.TryGet("bench", id, out _)) _former.Add("bench", id, "t");
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

    /// <summary>The service's former link cache, verbatim: bounded by emptying itself when full.</summary>
    private sealed class FormerLinkCache(int capacity)
    {
        private readonly ConcurrentDictionary<(string Client, string ThirdPartyId), string> _links = new();
        private int _count;

        public bool TryGet(string client, string thirdPartyId, out string tntId) =>
            _links.TryGetValue((client, thirdPartyId), out tntId!);

        public void Add(string client, string thirdPartyId, string tntId)
        {
            if (Volatile.Read(ref _count) >= capacity)
            {
                _links.Clear();
                Volatile.Write(ref _count, 0);
            }
            if (_links.TryAdd((client, thirdPartyId), tntId)) Interlocked.Increment(ref _count);
        }
    }
}
