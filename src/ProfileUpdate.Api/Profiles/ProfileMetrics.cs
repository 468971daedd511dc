using System.Diagnostics.Metrics;

namespace ProfileUpdate.Api.Profiles;

/// <summary>The profile store's own instruments: profiles deleted, one by one (DELETE) or in bulk (batchDelete).</summary>
public sealed class ProfileMetrics
{
    private readonly Counter<long> _deleted;

    public ProfileMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(ServiceMeter.Name);
        _deleted = meter.CreateCounter<long>("profileupdate.profiles.deleted", "{profile}", "Profiles deleted, by client and how (single or bulk)");
    }

    public void Deleted(string client, long count, bool bulk)
    {
        if (count > 0)
            _deleted.Add(count, new KeyValuePair<string, object?>("client", client), new KeyValuePair<string, object?>("how", bulk ? "bulk" : "single"));
    }
}
