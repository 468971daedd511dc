namespace ProfileUpdate.Api.Bulk;

/// <summary>Why a body was refused while spooling.</summary>
public enum SpoolLimit : byte
{
    None = 0,
    TooManyBytes = 1,
    TooManyRows = 2,
    BadHeader = 3,
    NoRoom = 4,
}
