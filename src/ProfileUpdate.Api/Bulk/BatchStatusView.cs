namespace ProfileUpdate.Api.Bulk;

/// <summary>A batch's status as the status endpoint shows it.</summary>
public sealed record BatchStatusView(string BatchId, string Status, BatchCounts Counts, IReadOnlyList<BatchFailure> Failures);
