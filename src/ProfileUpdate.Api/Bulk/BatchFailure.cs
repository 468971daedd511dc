namespace ProfileUpdate.Api.Bulk;

/// <summary>One failed row of a batch: its line in the file, its id (clipped) and why it failed.</summary>
public sealed record BatchFailure(long Row, string? Id, string Message);
