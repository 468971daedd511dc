using System.Diagnostics.Metrics;

namespace ProfileUpdate.Api.Bulk;

/// <summary>The bulk API's instruments: rows applied (a rate of it is rows per second), batches queued and running, spool bytes.</summary>
public sealed class BulkMetrics
{
    private readonly Counter<long> _rows;
    private readonly Counter<double> _gaveWay;

    public BulkMetrics(IMeterFactory meterFactory, BatchQueue queue, SpoolBudget budget)
    {
        var meter = meterFactory.Create(ServiceMeter.Name);
        _rows = meter.CreateCounter<long>("profileupdate.bulk.rows", "{row}", "Bulk rows by client and outcome");
        _gaveWay = meter.CreateCounter<double>("profileupdate.bulk.gave_way", "s",
            "Time batches rested between chunks to leave the instance to single updates and visits (Bulk:YieldAboveUpdatesPerSecond)");
        meter.CreateObservableGauge("profileupdate.bulk.batches.queued", () => Math.Max(0, queue.Held - queue.Running), "{batch}",
            "Accepted batches waiting to be applied by this instance");
        meter.CreateObservableGauge("profileupdate.bulk.batches.running", () => queue.Running, "{batch}", "Batches being applied by this instance");
        meter.CreateObservableGauge("profileupdate.bulk.spool.bytes", () => budget.Used, "By", "Spool bytes held by batches not yet complete");
    }

    /// <summary>Rows of a bulk erase: profiles deleted, ids with no profile, rows refused.</summary>
    public void Erased(string client, long deleted, long notFound, long failed)
    {
        var c = new KeyValuePair<string, object?>("client", client);
        if (deleted > 0) _rows.Add(deleted, c, new KeyValuePair<string, object?>("outcome", "deleted"));
        if (notFound > 0) _rows.Add(notFound, c, new KeyValuePair<string, object?>("outcome", "profile_not_found"));
        if (failed > 0) _rows.Add(failed, c, new KeyValuePair<string, object?>("outcome", "failed"));
    }

    /// <summary>A batch of <paramref name="client"/> rested this long after a chunk because single updates or visits were busy.</summary>
    public void GaveWay(string client, TimeSpan rest) =>
        _gaveWay.Add(rest.TotalSeconds, new KeyValuePair<string, object?>("client", client));

    public void Rows(string client, long applied, long created, long notFound, long failed)
    {
        var c = new KeyValuePair<string, object?>("client", client);
        if (applied > 0) _rows.Add(applied, c, new KeyValuePair<string, object?>("outcome", "updated"));
        if (created > 0) _rows.Add(created, c, new KeyValuePair<string, object?>("outcome", "created"));
        if (notFound > 0) _rows.Add(notFound, c, new KeyValuePair<string, object?>("outcome", "profile_not_found"));
        if (failed > 0) _rows.Add(failed, c, new KeyValuePair<string, object?>("outcome", "failed"));
    }
}
