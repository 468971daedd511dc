using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Api.Bulk;

/// <summary>What a batch does with its rows. The spool file name carries it, so a resumed batch keeps its kind.</summary>
public enum BatchKind
{
    /// <summary>v1 batchUpdate: existing profiles only.</summary>
    UpdateExisting,

    /// <summary>v2 batchUpdate: missing profiles are created.</summary>
    CreateMissing,

    /// <summary>v2 batchDelete: each profile found is deleted with its links.</summary>
    Erase,
}

/// <summary>An accepted batch waiting in, or being applied from, the spool.</summary>
/// <param name="Path">The spool file: <c>{batchId}.{v1|v2|erase}[.remove].batch</c> in the spool directory.</param>
/// <param name="Bytes">Its size, held against the spool budget until the batch completes.</param>
/// <param name="Resumed">Found in the spool at start-up: chunks after its checkpoint may have been applied already.</param>
/// <param name="EmptyValues">What an empty cell means (<c>?emptyValues=</c> of the submission); carried by the file name,
/// so a batch resumed after a crash applies exactly as it would have.</param>
/// <param name="Applied">Found as <c>….applied</c>: every row was written before the instance stopped (see
/// <see cref="AppliedExtension"/>).</param>
public sealed record BatchJob(string Client, string BatchId, BatchKind Kind, string Path, long Bytes, bool Resumed,
    EmptyValues EmptyValues = EmptyValues.Ignore, bool Applied = false)
{
    private const string Extension = ".batch";

    /// <summary>
    /// The spool file's extension once every row of its batch is written, given just before the record that completes
    /// the batch: a file found with it at start-up whose status record is gone (its instance was down for longer than
    /// the retention) is deleted, not applied again — applying a days-old batch again would overwrite newer values, and
    /// a days-old erase would delete profiles created since. With its record still there it resumes as any batch does.
    /// </summary>
    public const string AppliedExtension = ".applied";

    /// <summary>
    /// Added to the file name while the upload is spooled and until its batch is accepted (BatchSpool.Keep): a file
    /// that still has it at start-up was cut off or refused, and is deleted, never applied.
    /// </summary>
    public const string SpoolingSuffix = ".part";
    private const string RemoveMarker = ".remove";

    public bool CreateMissing => Kind == BatchKind.CreateMissing;

    public bool Erase => Kind == BatchKind.Erase;

    public static string FileName(string batchId, BatchKind kind, EmptyValues emptyValues = EmptyValues.Ignore) =>
        $"{batchId}.{Suffix(kind)}{(emptyValues == EmptyValues.Remove ? RemoveMarker : "")}{Extension}";

    private static string Suffix(BatchKind kind) => kind switch
    {
        BatchKind.UpdateExisting => "v1",
        BatchKind.CreateMissing => "v2",
        _ => "erase",
    };

    /// <summary>Where the spool file of <paramref name="path"/> goes once every row is written.</summary>
    public static string AppliedPath(string path) =>
        path.EndsWith(Extension, StringComparison.Ordinal) ? path[..^Extension.Length] + AppliedExtension : path;

    /// <summary>The job a spool file stands for; null for a file that is not a batch's.</summary>
    public static BatchJob? FromFile(FileInfo file)
    {
        var applied = file.Name.EndsWith(AppliedExtension, StringComparison.Ordinal);
        if (!applied && !file.Name.EndsWith(Extension, StringComparison.Ordinal)) return null;
        var stem = file.Name[..^(applied ? AppliedExtension : Extension).Length];
        // A batch id cannot contain '.', so the marker is unambiguous.
        var emptyValues = EmptyValues.Ignore;
        if (stem.EndsWith(RemoveMarker, StringComparison.Ordinal))
        {
            emptyValues = EmptyValues.Remove;
            stem = stem[..^RemoveMarker.Length];
        }
        var dot = stem.LastIndexOf('.');
        if (dot < 0) return null;
        BatchKind? kind = stem[(dot + 1)..] switch
        {
            "v1" => BatchKind.UpdateExisting,
            "v2" => BatchKind.CreateMissing,
            "erase" => BatchKind.Erase,
            _ => null,
        };
        if (kind is null) return null;
        var batchId = stem[..dot];
        // {client}-{epoch ms}-{8 digits}: the client code may itself contain '-'.
        var parts = batchId.Split('-');
        if (parts.Length < 3) return null;
        var client = string.Join('-', parts[..^2]);
        if (!ClientCode.IsValid(client)) return null;
        return new BatchJob(client, batchId, kind.Value, file.FullName, file.Length, Resumed: true, emptyValues, applied);
    }
}
