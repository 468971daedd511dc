namespace ProfileUpdate.Client;

/// <summary>One single profile update: attributes to set and attributes to remove.</summary>
/// <param name="Id">The visitor.</param>
/// <param name="Set">Attribute name (without <c>profile.</c>) to value.</param>
/// <param name="Remove">
/// Attribute names to remove, sent as empty values with <c>emptyValues=remove</c>: the service applies them with the sets
/// in one atomic step, as one update against the quota. Removing an attribute the profile lacks changes nothing; an
/// update of removals only is fine. A name must not be in both <paramref name="Set"/> and this (the service answers 400).
/// </param>
public sealed record ProfileUpdateRequest(ProfileId Id, IReadOnlyDictionary<string, string> Set, IReadOnlyCollection<string>? Remove = null);

/// <summary>What a single update did.</summary>
public enum UpdateOutcome
{
    /// <summary>Stored and readable.</summary>
    Applied,

    /// <summary>No profile exists for the id; nothing was created (update only, as Adobe).</summary>
    ProfileNotFound,
}

/// <summary>The ids of the profile a visit created or found.</summary>
/// <param name="TntId">The profile's tntId (generated when none was given).</param>
/// <param name="ThirdPartyId">The thirdPartyId linked, if one was given.</param>
public sealed record VisitResult(string TntId, string? ThirdPartyId);

/// <summary>A profile as the read API shows it.</summary>
/// <param name="TntId">The profile's tntId.</param>
/// <param name="ThirdPartyId">Its linked thirdPartyId, if any.</param>
/// <param name="ModifiedAt">When it was last written.</param>
/// <param name="Attributes">Name to value and modification time.</param>
public sealed record Profile(string TntId, string? ThirdPartyId, DateTimeOffset ModifiedAt, IReadOnlyDictionary<string, ProfileAttributeValue> Attributes);

/// <summary>One attribute of a <see cref="Profile"/>.</summary>
/// <param name="Value">The value.</param>
/// <param name="ModifiedAt">When it was last set.</param>
public sealed record ProfileAttributeValue(string Value, DateTimeOffset ModifiedAt);

/// <summary>What every batch submission shares: waiting, failing on unhandled rows, progress.</summary>
public abstract record BatchSendOptions
{
    /// <summary>Wait until the batch is complete (polling its status) and return its status with details.</summary>
    public bool Wait { get; init; }

    /// <summary>
    /// How long <see cref="Wait"/> waits for completion, counted from when the file was sent, before it throws
    /// <see cref="BatchNotAppliedException"/> with <see cref="ProfileUpdateException.WaitTimedOut"/> (the batch goes on being
    /// applied). Any length: the service is asked to hold its answer for 30 s at most, the rest is polling.
    /// </summary>
    public TimeSpan WaitTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// After waiting, throw <see cref="BatchNotAppliedException"/> when the batch did not handle every row (default true):
    /// see <see cref="BatchStatus.AllApplied"/> (a failed row; for an update also a row that found no profile).
    /// </summary>
    public bool ThrowOnFailedRows { get; init; } = true;

    /// <summary>Told the number of body bytes sent so far.</summary>
    public IProgress<long>? BytesSent { get; init; }

    /// <summary>
    /// Told the submission (batch id, status URL) as soon as the service accepted the file, before any waiting: if the
    /// wait then fails (a timeout, a lost connection), the caller still knows which batch to check.
    /// </summary>
    public IProgress<BatchSubmission>? Submitted { get; init; }

    /// <summary>Told each batch status seen while waiting (rows consumed so far).</summary>
    public IProgress<BatchStatus>? StatusSeen { get; init; }
}

/// <summary>How to submit a batch update file.</summary>
public sealed record BatchSubmitOptions : BatchSendOptions
{
    /// <summary>v2 (default): create missing profiles. False: v1, update existing profiles only.</summary>
    public bool CreateMissing { get; init; } = true;

    /// <summary>
    /// Cells that are present but empty (<c>id,,x</c> or a trailing <c>id,x,</c>) remove their attribute (sends
    /// <c>?emptyValues=remove</c>); cells omitted at the end of a short row still change nothing. Default false: empty
    /// cells are ignored, as in Adobe.
    /// </summary>
    public bool RemoveEmpty { get; init; }
}

/// <summary>
/// How to submit a bulk erase file (<c>batchDelete</c>). An id with no profile is not a failure of an erase (nothing is
/// stored for it, which is what was asked); it is counted in <see cref="BatchStatus.ProfilesNotFound"/>.
/// </summary>
public sealed record BatchEraseOptions : BatchSendOptions;

/// <summary>What a profile delete did. Both outcomes leave no profile for the id.</summary>
public enum DeleteOutcome
{
    /// <summary>The profile, every id linked to it and everything keyed by it are durably gone (204).</summary>
    Deleted,

    /// <summary>No profile existed for the id (404): nothing was stored, so nothing was deleted.</summary>
    NotFound,
}

/// <summary>A submitted batch.</summary>
/// <param name="BatchId">The batch id.</param>
/// <param name="StatusUrl">The absolute URL of its status.</param>
/// <param name="Status">Its final status with details when the submission waited; else null.</param>
public sealed record BatchSubmission(string BatchId, Uri StatusUrl, BatchStatus? Status);

/// <summary>A batch's status (counts are zero unless details were asked for).</summary>
/// <param name="BatchId">The batch id.</param>
/// <param name="State"><c>complete</c>, <c>incomplete</c> or <c>stuck</c>.</param>
/// <param name="BatchSize">Data rows.</param>
/// <param name="Consumed">Rows processed so far.</param>
/// <param name="Successful">Rows applied.</param>
/// <param name="ProfilesNotFound">v1 update or erase rows whose profile does not exist.</param>
/// <param name="Failed">Rows refused.</param>
/// <param name="ProfilesCreated">Profiles v2 created.</param>
/// <param name="FailedRows">The failed rows the server lists (the first 1,000).</param>
/// <param name="ProfilesDeleted">
/// For a bulk erase (<c>batchDelete</c>): profiles deleted (the same number as <paramref name="Successful"/>); null for a
/// batch update, or when details were not asked for.
/// </param>
public sealed record BatchStatus(string BatchId, string State, long BatchSize, long Consumed, long Successful, long ProfilesNotFound,
    long Failed, long ProfilesCreated, IReadOnlyList<BatchFailedRow> FailedRows, long? ProfilesDeleted = null)
{
    /// <summary>True when every row has been processed.</summary>
    public bool IsComplete => State == "complete";

    /// <summary>True for a bulk erase (known from its details: the server reports <c>profilesDeleted</c> only for those).</summary>
    public bool IsErase => ProfilesDeleted is not null;

    /// <summary>
    /// True when complete and every row was handled: no row failed, and — for an update — every row found its profile. For
    /// an erase a row whose profile does not exist is handled too (nothing is stored for it, which is what was asked).
    /// </summary>
    public bool AllApplied => IsComplete && Failed == 0 && (IsErase || ProfilesNotFound == 0);
}

/// <summary>A row the server refused.</summary>
/// <param name="Row">Line in the batch file (the <c>batch=</c> header line is 1).</param>
/// <param name="Id">The row's id cell as the server read it.</param>
/// <param name="Message">Why it was refused.</param>
public sealed record BatchFailedRow(long Row, string Id, string Message);
