namespace ProfileUpdate.Api.Configuration;

/// <summary>The in-process channel and the background applier that drains it (group commit).</summary>
public sealed class ApplierOptions
{
    /// <summary>Updates waiting for the applier before new ones are refused with 503 (bounded memory).</summary>
    [Range(1, 1_000_000)] public int QueueCapacity { get; set; } = 10_000;

    /// <summary>Most updates written in one applier round trip.</summary>
    [Range(1, 10_000)] public int MaxBatchSize { get; set; } = 512;

    /// <summary>Applier batches whose store round trips may overlap (more lets throughput grow past one batch per round trip).</summary>
    [Range(1, 64)] public int MaxBatchesInFlight { get; set; } = 4;

    /// <summary>How long a request waits for its update to be durable before answering 503: no request hangs on a store that does not answer.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")] public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(2);
}
