using System.Diagnostics.Metrics;

namespace ProfileUpdate.Api.Profiles;

/// <summary>
/// The profile store's own instruments: profiles deleted, one by one (DELETE) or in bulk (batchDelete), and change-feed
/// entries written (with Changes:Enabled; the store appends them with each write).
/// </summary>
public sealed class ProfileMetrics
{
    private readonly Counter<long> _deleted;
    private readonly Counter<long> _changes;

    public ProfileMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(ServiceMeter.Name);
        _deleted = meter.CreateCounter<long>("profileupdate.profiles.deleted", "{profile}", "Profiles deleted, by client and how (single or bulk)");
        _changes = meter.CreateCounter<long>("profileupdate.changes.written", "{entry}", "Change-feed entries written, by client");
    }

    public void ChangesWritten(string client, long count) => _changes.Add(count, new KeyValuePair<string, object?>("client", client));

    public void Deleted(string client, long count, bool bulk)
    {
        if (count > 0)
            _deleted.Add(count, new KeyValuePair<string, object?>("client", client), new KeyValuePair<string, object?>("how", bulk ? "bulk" : "single"));
    }
}
