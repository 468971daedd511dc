namespace ProfileUpdate.Api.Bulk;

/// <summary>Why a body was refused while spooling (never stored or shown: no fixed values needed).</summary>
/// <remarks><see cref="NotStored"/>: writing the spool file failed (disk full, directory missing, no permission): the
/// server's fault, not the upload's (<see cref="BatchSpool.StoreError"/> says what happened).</remarks>
public enum SpoolLimit { None, TooManyBytes, TooManyRows, BadHeader, NoRoom, NotStored }
