namespace ProfileUpdate.Api.Bulk;

/// <summary>Where a batch's applier got to: the spool offset after the last recorded line, and that line's number.</summary>
/// <param name="Complete">Every row is applied and recorded.</param>
public sealed record BatchCheckpoint(long Offset, long Row, bool Complete);
