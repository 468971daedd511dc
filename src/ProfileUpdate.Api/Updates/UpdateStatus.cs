namespace ProfileUpdate.Api.Updates;

/// <summary>How an update ended. Explicit values: they appear in metrics labels and logs.</summary>
public enum UpdateStatus : byte
{
    Applied = 1,
    ProfileNotFound = 2,
    QuotaExceeded = 3,
    StoreUnavailable = 4,

    /// <summary>
    /// Not the applier's: the request stopped waiting (Applier:RequestTimeout) before the applier completed the command,
    /// and answered 503 itself. What the applier then did with it is <see cref="UpdateCommand.AfterAbandon"/>.
    /// </summary>
    Abandoned = 5,
}
