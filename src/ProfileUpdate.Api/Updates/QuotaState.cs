namespace ProfileUpdate.Api.Updates;

/// <summary>The client's quota as seen by one update: for the RateLimit headers.</summary>
public readonly record struct QuotaState(long Limit, long Remaining, long ResetSeconds);
