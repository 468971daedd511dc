using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Api.Updates;

/// <summary>How an update ended. Explicit values: they appear in metrics labels and logs.</summary>
public enum UpdateStatus : byte
{
    Applied = 1,
    ProfileNotFound = 2,
    QuotaExceeded = 3,
    StoreUnavailable = 4,
}

/// <summary>The client's quota as seen by one update: for the RateLimit headers.</summary>
public readonly record struct QuotaState(long Limit, long Remaining, long ResetSeconds);

/// <summary>The applier's answer to one update.</summary>
public readonly record struct UpdateOutcome(UpdateStatus Status, long RetryAfterSeconds = 0, QuotaState? Quota = null);

/// <summary>
/// One accepted single update on its way to the store. The endpoint awaits <see cref="Completion"/>, so a 200 is only
/// sent once the applier has written the update (group commit).
/// </summary>
public sealed record UpdateCommand(string Client, VisitorIdentity Identity, IReadOnlyList<ProfileAttribute> Attributes)
{
    // Continuations run inline: the request's response is written by whoever completes it (a batch's own continuation,
    // never the applier's read loop, which does not wait for batches), which saves a thread-pool hop per update. Writing
    // a short response does not block — Kestrel buffers it.
    private readonly TaskCompletionSource<UpdateOutcome> _completion = new();

    public Task<UpdateOutcome> Completion => _completion.Task;

    public void Complete(UpdateOutcome outcome) => _completion.TrySetResult(outcome);
}
