using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace ProfileUpdate.Api.Updates;

/// <summary>
/// The single-update instruments (System.Diagnostics.Metrics): any exporter — Prometheus at /metrics, dotnet-counters —
/// reads them without the hot path knowing which.
/// </summary>
public sealed class UpdateMetrics
{
    private readonly Counter<long> _updates;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _batchDuration;
    private readonly ConcurrentDictionary<string, long> _quotaRemaining = new(StringComparer.Ordinal);

    public const string BatchSizeInstrument = "profileupdate.applier.batch.size";
    public const string BatchDurationInstrument = "profileupdate.applier.batch.duration";

    public UpdateMetrics(IMeterFactory meterFactory, UpdateQueue queue)
    {
        var meter = meterFactory.Create(ServiceMeter.Name);
        _updates = meter.CreateCounter<long>("profileupdate.updates", "{update}", "Single profile updates by client and outcome");
        _batchSize = meter.CreateHistogram<int>(BatchSizeInstrument, "{update}", "Updates per applier batch");
        _batchDuration = meter.CreateHistogram<double>(BatchDurationInstrument, "s", "Store round trips of one applier batch");
        meter.CreateObservableGauge("profileupdate.queue.depth", () => queue.Count, "{update}", "Updates waiting for the applier");
        meter.CreateObservableGauge("profileupdate.quota.remaining", ObserveQuota, "{update}",
            "Single updates a client may still make in the rolling 24 hours, as last seen");
    }

    /// <summary>
    /// Counts the outcomes of one applier batch, every command of which is complete. One Add per run of equal (client,
    /// outcome) rather than per update: the counter's tag lookup is the expensive part, and a batch is mostly one run.
    /// </summary>
    public void Updates(IReadOnlyList<UpdateCommand> batch)
    {
        var i = 0;
        while (i < batch.Count)
        {
            var client = batch[i].Client;
            var status = batch[i].Outcome.Status;
            var run = 1;
            while (i + run < batch.Count && batch[i + run].Outcome.Status == status &&
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

    /// <summary>A request refused before it reached the applier (queue full, timed out).</summary>
    public void Rejected(string client, string reason) =>
        _updates.Add(1, new KeyValuePair<string, object?>("client", client), new KeyValuePair<string, object?>("outcome", reason));

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
}
