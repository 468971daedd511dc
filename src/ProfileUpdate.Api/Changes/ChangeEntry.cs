namespace ProfileUpdate.Api.Changes;

/// <summary>One applied change as the feed shows it (docs/api.md §9).</summary>
/// <param name="Id">The entry's cursor: pass it as <c>after</c> (or Last-Event-ID) to read what follows it.</param>
/// <param name="At">When the change was applied (ISO-8601 with milliseconds).</param>
/// <param name="Kind"><c>created</c>, <c>updated</c> or <c>deleted</c>.</param>
public sealed record ChangeEntry(
    string Id,
    string At,
    string Kind,
    string TntId,
    string? ThirdPartyId,
    IReadOnlyDictionary<string, string> Set,
    IReadOnlyList<string> Removed);

/// <summary>A page of the pull API: the entries after the cursor given, oldest first, and the cursor to continue from.</summary>
public sealed record ChangePage(IReadOnlyList<ChangeEntry> Changes, string Next);
