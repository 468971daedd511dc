namespace ProfileUpdate.Api.Updates;

/// <summary>How an update ended. Explicit values: they appear in metrics labels and logs.</summary>
public enum UpdateStatus : byte
{
    Applied = 1,
    ProfileNotFound = 2,
    QuotaExceeded = 3,
    StoreUnavailable = 4,
}
