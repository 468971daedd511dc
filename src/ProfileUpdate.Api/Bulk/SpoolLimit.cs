namespace ProfileUpdate.Api.Bulk;

/// <summary>Why a body was refused while spooling (never stored or shown: no fixed values needed).</summary>
public enum SpoolLimit { None, TooManyBytes, TooManyRows, BadHeader, NoRoom }
