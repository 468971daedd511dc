using BenchmarkDotNet.Attributes;
using ProfileUpdate.Api.Store;

namespace ProfileUpdate.Benchmarks.Micro;

/// <summary>
/// A profile's key on the write path, per update: "Tagged by profile" is the layout before partitions
/// (<c>pu:{client:t:base}</c>, kept here only as the yardstick); "Tagged by partition" is today's
/// (<c>pu:{client:pN}:t:base</c>, N from XxHash32 of the tntId base), which the change feed on Redis Cluster needs.
/// </summary>
[MemoryDiagnoser]
public class ProfileKeyBenchmarks
{
    private const string Client = "bench";
    private readonly string _tntBase = "53339bb649f750299c21acd95f9b9505";

    [Benchmark(Baseline = true)]
    public string TaggedByProfile() => $"pu:{{{Client}:t:{_tntBase}}}";

    [Benchmark]
    public string TaggedByPartition() => RedisKeys.Profile(Client, _tntBase, 64);
}
