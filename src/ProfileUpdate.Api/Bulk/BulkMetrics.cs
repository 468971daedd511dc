using System.Diagnostics.Metrics;

namespace ProfileUpdate.Api.Bulk;

/// <summary>The bulk API's instruments.</summary>
public sealed class BulkMetrics(IMeterFactory meterFactory)
{
    private readonly Counter<long> _rows = meterFactory.Create(ServiceMeter.Name)
        .CreateCounter<long>("profileupdate.bulk.rows", "{row}", "Bulk rows by client and outcome");

    public void Rows(string client, long applied, long created, long notFound, long failed)
    {
        var c = new KeyValuePair<string, object?>("client", client);
        if (applied > 0) _rows.Add(applied, c, new KeyValuePair<string, object?>("outcome", "updated"));
        if (created > 0) _rows.Add(created, c, new KeyValuePair<string, object?>("outcome", "created"));
        if (notFound > 0) _rows.Add(notFound, c, new KeyValuePair<string, object?>("outcome", "profile_not_found"));
        if (failed > 0) _rows.Add(failed, c, new KeyValuePair<string, object?>("outcome", "failed"));
    }
}
