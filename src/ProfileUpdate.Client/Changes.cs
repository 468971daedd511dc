namespace ProfileUpdate.Client;

/// <summary>The kinds of <see cref="ChangeEntry"/> the service writes (strings, so a newer service's kind does not break an older client).</summary>
public static class ChangeKind
{
    /// <summary>A visit or a v2 bulk row created the profile.</summary>
    public const string Created = "created";

    /// <summary>Attributes were set and/or removed.</summary>
    public const string Updated = "updated";

    /// <summary>The profile was deleted (one by one or by a bulk erase).</summary>
    public const string Deleted = "deleted";
}

/// <summary>One applied change to a profile, as the change feed shows it (docs/api.md §9).</summary>
/// <param name="Id">The entry's opaque cursor: pass it as <c>after</c> to read what follows it. Do not parse it.</param>
/// <param name="At">When the service applied the change (milliseconds).</param>
/// <param name="Kind">One of <see cref="ChangeKind"/>.</param>
/// <param name="TntId">The profile's tntId.</param>
/// <param name="ThirdPartyId">The thirdPartyId the write named or recorded; null for a write by tntId alone.</param>
/// <param name="Set">The attributes set, with their new values.</param>
/// <param name="Removed">The attributes removed.</param>
public sealed record ChangeEntry(
    string Id,
    DateTimeOffset At,
    string Kind,
    string TntId,
    string? ThirdPartyId,
    IReadOnlyDictionary<string, string> Set,
    IReadOnlyList<string> Removed);

/// <summary>One page of the change feed.</summary>
/// <param name="Changes">The entries after the cursor given, oldest first (empty when caught up).</param>
/// <param name="Next">
/// The cursor to continue from: the last entry's id, or the cursor given when the page is empty. Keep it and pass it as
/// <c>after</c> next time.
/// </param>
public sealed record ChangePage(IReadOnlyList<ChangeEntry> Changes, string Next);
