namespace ProfileUpdate.Api.Bulk;

/// <summary>A batch's status as the status endpoint shows it.</summary>
/// <param name="Message">Why a batch is <c>stuck</c>, and what to do; null otherwise.</param>
/// <param name="Erase">A bulk erase (batchDelete): its successful rows are profiles deleted.</param>
public sealed record BatchStatusView(string BatchId, string Status, BatchCounts Counts, IReadOnlyList<BatchFailure> Failures, string? Message, bool Erase = false);
