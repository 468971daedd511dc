using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using ProfileUpdate.Api.Updates;

namespace ProfileUpdate.Api.Operations;

/// <summary>
/// The service's instruments (System.Diagnostics.Metrics, meter "ProfileUpdate"): any exporter — Prometheus at
/// /metrics, dotnet-counters — reads them without the hot path knowing which.
/// </summary>
public sealed class ServiceMetrics : IDisposable
{
    public const string MeterName = "ProfileUpdate";

    private readonly Meter _meter;
    private readonly Counter<long> _updates;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _batchDuration;
    private readonly Counter<long> _storeErrors;
    private readonly Counter<long> _bulkRows;
    private readonly ConcurrentDictionary<string, long> _quotaRemaining = new(StringComparer.Ordinal);

    public ServiceMetrics(IMeterFactory meterFactory, UpdateQueue queue)
    {
        _meter = meterFactory.Create(MeterName);
        _updates = _meter.CreateCounter<long>("profileupdate.updates", "{update}", "Single profile updates by client and outcome");
        _batchSize = _meter.CreateHistogram<int>("profileupdate.applier.batch.size", "{update}", "Updates per applier batch");
        _batchDuration = _meter.CreateHistogram<double>("profileupdate.applier.batch.duration", "s", "Store round trips of one applier batch");
        _storeErrors = _meter.CreateCounter<long>("profileupdate.store.errors", "{error}", "Failed profile store calls");
        _bulkRows = _meter.CreateCounter<long>("profileupdate.bulk.rows", "{row}", "Bulk rows by client and outcome");
        _meter.CreateObservableGauge("profileupdate.queue.depth", () => queue.Count, "{update}", "Updates waiting for the applier");
        _meter.CreateObservableGauge("profileupdate.quota.remaining", ObserveQuota, "{update}",
            "Single updates a client may still make in the rolling 24 hours, as last seen");
    }

    /// <summary>
    /// Counts the outcomes of one applier batch. One Add per run of equal (client, outcome) rather than per update: the
    /// counter's tag lookup is the expensive part, and a batch is mostly one run.
    /// </summary>
    public void Updates(IReadOnlyList<UpdateCommand> batch)
    {
        var i = 0;
        while (i < batch.Count)
        {
            var client = batch[i].Client;
            var status = batch[i].Completion.Result.Status;
            var run = 1;
            while (i + run < batch.Count && batch[i + run].Completion.Result.Status == status &&
                   string.Equals(batch[i + run].Client, client, StringComparison.Ordinal)) run++;
            _updates.Add(run, new KeyValuePair<string, object?>("client", client), new KeyValuePair<string, object?>("outcome", OutcomeName(status)));
            i += run;
        }
    }

    public void Batch(int size, TimeSpan duration)
    {
        _batchSize.Record(size);
        _batchDuration.Record(duration.TotalSeconds);
    }

    public void BulkRows(string client, long applied, long created, long notFound, long failed)
    {
        var c = new KeyValuePair<string, object?>("client", client);
        if (applied > 0) _bulkRows.Add(applied, c, new KeyValuePair<string, object?>("outcome", "updated"));
        if (created > 0) _bulkRows.Add(created, c, new KeyValuePair<string, object?>("outcome", "created"));
        if (notFound > 0) _bulkRows.Add(notFound, c, new KeyValuePair<string, object?>("outcome", "profile_not_found"));
        if (failed > 0) _bulkRows.Add(failed, c, new KeyValuePair<string, object?>("outcome", "failed"));
    }

    /// <summary>A request refused before it reached the applier (queue full, timed out).</summary>
    public void Rejected(string client, string reason) =>
        _updates.Add(1, new KeyValuePair<string, object?>("client", client), new KeyValuePair<string, object?>("outcome", reason));

    public void StoreError(string operation) => _storeErrors.Add(1, new KeyValuePair<string, object?>("operation", operation));

    public void QuotaRemaining(string client, long remaining) => _quotaRemaining[client] = remaining;

    public static string OutcomeName(UpdateStatus status) => status switch
    {
        UpdateStatus.Applied => "applied",
        UpdateStatus.ProfileNotFound => "profile_not_found",
        UpdateStatus.QuotaExceeded => "quota_exceeded",
        UpdateStatus.StoreUnavailable => "store_unavailable",
        _ => "unknown",
    };

    private IEnumerable<Measurement<long>> ObserveQuota()
    {
        foreach (var (client, remaining) in _quotaRemaining)
            yield return new Measurement<long>(remaining, new KeyValuePair<string, object?>("client", client));
    }

    public void Dispose() => _meter.Dispose();
}

/// <summary>Times a batch without allocating.</summary>
public readonly struct BatchTimer
{
    private readonly long _start = Stopwatch.GetTimestamp();

    public BatchTimer()
    {
    }

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_start);
}
