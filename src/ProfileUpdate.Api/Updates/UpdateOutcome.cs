namespace ProfileUpdate.Api.Updates;

/// <summary>The applier's answer to one update.</summary>
public readonly record struct UpdateOutcome(UpdateStatus Status, long RetryAfterSeconds = 0, QuotaState? Quota = null);
