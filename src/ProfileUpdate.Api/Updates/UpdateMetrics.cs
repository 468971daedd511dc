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
    private readonly Counter<long> _afterTimeout;
    private readonly LatestQuota _quota;

    public const string BatchSizeInstrument = "profileupdate.applier.batch.size";
    public const string BatchDurationInstrument = "profileupdate.applier.batch.duration";

    public UpdateMetrics(IMeterFactory meterFactory, UpdateQueue queue, LatestQuota quota)
    {
        _quota = quota;
        var meter = meterFactory.Create(ServiceMeter.Name);
        _updates = meter.CreateCounter<long>("profileupdate.updates", "{update}",
            "Single profile update requests by client and outcome: each request once, with the answer it got");
        _afterTimeout = meter.CreateCounter<long>("profileupdate.updates.after_timeout", "{update}",
            "Single updates whose request timed out (counted there as timeout), by what the applier did with them afterwards");
        _batchSize = meter.CreateHistogram<int>(BatchSizeInstrument, "{update}", "Updates per applier batch");
        _batchDuration = meter.CreateHistogram<double>(BatchDurationInstrument, "s", "Store round trips of one applier batch");
        meter.CreateObservableGauge("profileupdate.queue.depth", () => queue.Count, "{update}", "Updates waiting for the applier");
        meter.CreateObservableGauge("profileupdate.quota.remaining", ObserveQuota, "{update}",
            "Single updates a client may still make in the rolling 24 hours, as last seen");
    }

    /// <summary>
    /// Counts the outcomes of one applier batch, every command of which is complete. One Add per run of equal (client,
    /// outcome) rather than per update: the counter's tag lookup is the expensive part, and a batch is mostly one run.
    /// A command whose request timed out was counted then (timeout); what the applier did with it goes to its own counter,
    /// so each request stays one count in the outcome counter.
    /// </summary>
    public void Updates(IReadOnlyList<UpdateCommand> batch)
    {
        var i = 0;
        while (i < batch.Count)
        {
            var client = batch[i].Client;
            var (status, abandoned) = Status(batch[i]);
            var run = 1;
            while (i + run < batch.Count && Status(batch[i + run]) == (status, abandoned) &&
                   string.Equals(batch[i + run].Client, client, StringComparison.Ordinal)) run++;
            (abandoned ? _afterTimeout : _updates).Add(run,
                new KeyValuePair<string, object?>("client", client), new KeyValuePair<string, object?>("outcome", OutcomeName(status)));
            i += run;
        }
    }

    /// <summary>The applier's outcome of a command, and whether its request had given up on it before.</summary>
    private static (UpdateStatus Status, bool Abandoned) Status(UpdateCommand command)
    {
        var status = command.Outcome.Status;
        if (status != UpdateStatus.Abandoned) return (status, false);
        // The applier completes every command of its batch, so an abandoned one has its outcome by now.
        return (command.AfterAbandon ?? UpdateStatus.Abandoned, true);
    }

    public void Batch(int size, TimeSpan duration)
    {
        _batchSize.Record(size);
        _batchDuration.Record(duration.TotalSeconds);
    }

    /// <summary>A request answered without an outcome of the applier: refused at the queue, or timed out and given up on.</summary>
    public void Rejected(string client, string reason) =>
        _updates.Add(1, new KeyValuePair<string, object?>("client", client), new KeyValuePair<string, object?>("outcome", reason));

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
        foreach (var (client, remaining) in _quota.Remaining())
            yield return new Measurement<long>(remaining, new KeyValuePair<string, object?>("client", client));
    }
}
