using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Api.Updates;

/// <summary>
/// One accepted single update on its way to the store. The endpoint awaits <see cref="Completion"/>, so a 200 is only
/// sent once the applier has written the update (group commit).
/// </summary>
/// <param name="Removals">Attribute names to remove in the same atomic write (<c>emptyValues=remove</c>).</param>
public sealed record UpdateCommand(string Client, VisitorIdentity Identity, IReadOnlyList<ProfileAttribute> Attributes, IReadOnlyList<string> Removals)
{
    // Continuations run inline: the request's response is written by whoever completes it (a batch's own continuation,
    // never the applier's read loop, which does not wait for batches), which saves a thread-pool hop per update. Writing
    // a short response does not block — Kestrel buffers it.
    private readonly TaskCompletionSource<UpdateOutcome> _completion = new();

    public Task<UpdateOutcome> Completion => _completion.Task;

    /// <summary>How the update ended; only once <see cref="Completion"/> has completed.</summary>
    public UpdateOutcome Outcome => _completion.Task.IsCompletedSuccessfully
        ? _completion.Task.Result
        : throw new InvalidOperationException("The update has not been completed yet.");

    public void Complete(UpdateOutcome outcome) => _completion.TrySetResult(outcome);
}
