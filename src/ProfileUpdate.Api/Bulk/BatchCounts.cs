namespace ProfileUpdate.Api.Bulk;

/// <summary>Counters of one batch (docs/api.md §2, batch status).</summary>
public sealed record BatchCounts(long BatchSize, long Consumed, long Successful, long NotFound, long Failed, long Created);
