using BenchmarkDotNet.Attributes;
using ProfileUpdate.Api.Profiles;
using ProfileUpdate.Api.Quota;
using ProfileUpdate.Api.Updates;
using ProfileUpdate.Testing;

namespace ProfileUpdate.Benchmarks.Micro;

/// <summary>
/// The Redis round trips of one applier batch (UpdateApplier.ApplyAsync), against a real redis-server started for the
/// run: the quota script, the thirdPartyId lookups, the conditional apply script, and the three together as the applier
/// sends them. The service's own objects are built as ServiceComposition wires them. ApplyAsync itself is internal, so
/// its calls are made here directly; the UpdateCommand bookkeeping around them is CPU work measured elsewhere.
/// </summary>
[MemoryDiagnoser]
public class StoreBenchmarks
{
    private const string Client = "bench";

    /// <summary>Far above what any run consumes (a long run makes a few million calls of at most 64 units), so it never denies.</summary>
    private const long QuotaLimit = 1_000_000_000;

    private RedisServer? _server;
    private ServiceStore? _store;
    private ProfileRepository _repository = null!;
    private QuotaRepository _quota = null!;
    private QuotaApplyCall _quotaApply = null!;
    private ProfileWrite[] _writes = [];
    private (string Client, string ThirdPartyId)[] _thirdPartyIds = [];
    private WriteResult[] _results = [];

    /// <summary>Updates per applier batch: 1 is a quiet service (one request per round trip), 64 one under load.</summary>
    [Params(1, 64)]
    public int BatchSize { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        // Without persistence: the benchmarks measure the service's own round trips against real Redis, not disk writes.
        _server = RedisServer.IsAvailable ? new RedisServer() : throw new InvalidOperationException(
            RedisServer.NotInstalled + ". StoreBenchmarks run against a real Redis; install it or leave them out with " +
            "--filter '*Parsing*' '*BulkRow*'.");
        _store = new ServiceStore(_server.ConnectionString);
        _repository = _store.Profiles;
        _quota = _store.Quota;
        _quotaApply = _store.QuotaApply;

        // Existing visitors, linked to thirdPartyIds, as the visit API leaves them: single updates only ever update.
        var tntIds = Enumerable.Range(0, BatchSize).Select(_ => VisitorIds.NewTntId()).ToArray();
        _thirdPartyIds = Enumerable.Range(0, BatchSize).Select(i => (Client, $"customer-{i:D7}")).ToArray();
        var creates = tntIds.Select(t => new ProfileWrite(Client, t, null, WriteMode.CreateIfMissing, [new("tier", "bronze")])).ToArray();
        var created = new WriteResult[BatchSize];
        await _repository.WriteAsync(creates, created);
        for (var i = 0; i < BatchSize; i++) await _repository.LinkThirdPartyAsync(Client, _thirdPartyIds[i].ThirdPartyId, tntIds[i]);

        // What the applier writes for a resolved single update: update-only, by tntId, no thirdPartyId; two attributes each
        // (the shape of the load harness's updates).
        _writes = tntIds.Select((t, i) => new ProfileWrite(Client, t, null, WriteMode.UpdateOnly,
            [new("tier", "gold"), new("score", (i * 7).ToString(System.Globalization.CultureInfo.InvariantCulture))])).ToArray();
        _results = new WriteResult[BatchSize];

        // A benchmark that silently measured "profile not found" or "quota exceeded" would measure the cheap path.
        if (created.Any(r => r != WriteResult.Created)) throw new InvalidOperationException("Setup could not create the profiles.");
        await ApplyWrites();
        if (_results.Any(r => r != WriteResult.Applied)) throw new InvalidOperationException("Setup writes did not apply.");
        if ((await ResolveThirdParty()).Any(t => t is null)) throw new InvalidOperationException("Setup thirdPartyIds do not resolve.");
        if ((await ConsumeQuota()).Admitted != BatchSize) throw new InvalidOperationException("Setup quota call denied units.");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store?.Dispose();
        _server?.Dispose();
    }

    /// <summary>The quota script: one call per client per batch, consuming one unit per update.</summary>
    [Benchmark]
    public Task<QuotaDecision> ConsumeQuota() => _quota.ConsumeAsync(Client, QuotaLimit, BatchSize, new QuotaCall(Client));

    /// <summary>thirdPartyId → tntId for every update of the batch: one MGET on standalone Redis.</summary>
    [Benchmark]
    public Task<string?[]> ResolveThirdParty() => _repository.ResolveThirdPartyAsync(_thirdPartyIds);

    /// <summary>The apply script: every write of the batch in one conditional, update-only call.</summary>
    [Benchmark]
    public Task ApplyWrites() => _repository.WriteAsync(_writes, _results);

    /// <summary>
    /// The applier's store traffic for a batch of known visitors on standalone Redis (links remembered in process):
    /// quota and writes in one script call, one round trip.
    /// </summary>
    [Benchmark]
    public Task<(QuotaDecision, WriteResult[])> ApplierBatchOneCall() => _quotaApply.RunAsync(Client, QuotaLimit, _writes, new QuotaCall(Client));

    /// <summary>The two-step store traffic (Redis Cluster, or links not yet known): quota and resolve sent together, then the writes.</summary>
    [Benchmark]
    public async Task ApplierBatch()
    {
        var quota = _quota.ConsumeAsync(Client, QuotaLimit, BatchSize, new QuotaCall(Client));
        var resolving = _repository.ResolveThirdPartyAsync(_thirdPartyIds);
        await Task.WhenAll(quota, resolving);
        await _repository.WriteAsync(_writes, new WriteResult[BatchSize]);
    }
}
