using System.Diagnostics.Metrics;

namespace ProfileUpdate.Api.Store;

/// <summary>Failed profile store calls, by the operation that failed (an applier batch, or a request's route).</summary>
public sealed class StoreMetrics(IMeterFactory meterFactory)
{
    private readonly Counter<long> _errors = meterFactory.Create(ServiceMeter.Name)
        .CreateCounter<long>("profileupdate.store.errors", "{error}", "Failed profile store calls");

    public void Error(string operation) => _errors.Add(1, new KeyValuePair<string, object?>("operation", operation));
}
