using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Api.Updates;

/// <summary>
/// One accepted single update on its way to the store. The endpoint awaits <see cref="Completion"/>, so a 200 is only
/// sent once the applier has written the update (group commit).
/// </summary>
/// <param name="Removals">Attribute names to remove in the same atomic write (<c>emptyValues=remove</c>).</param>
public sealed record UpdateCommand(string Client, VisitorIdentity Identity, IReadOnlyList<ProfileAttribute> Attributes, IReadOnlyList<string> Removals)
{
    private static readonly UpdateOutcome AbandonedOutcome = new(UpdateStatus.Abandoned);

    // Continuations run inline: the request's response is written by whoever completes it (a batch's own continuation,
    // never the applier's read loop, which does not wait for batches), which saves a thread-pool hop per update. Writing
    // a short response does not block — Kestrel buffers it.
    // Whoever sets its result first decides how the request ends: the applier (its outcome) or the request giving up on
    // it (TryAbandon). The completion's own atomic first-wins is the arbiter, so the race costs the success path nothing.
    private readonly TaskCompletionSource<UpdateOutcome> _completion = new();

    // How the applier ended a command its request had given up on (0: not yet, or not given up on). Its status only, a
    // byte rather than a whole outcome on every command: the metrics need no more. Written only by the applier, whose
    // completions of one command run one after another in its batch, and read by the same batch's metrics afterwards.
    private UpdateStatus _afterAbandon;

    public Task<UpdateOutcome> Completion => _completion.Task;

    /// <summary>How the update ended for its request; only once <see cref="Completion"/> has completed.</summary>
    public UpdateOutcome Outcome => _completion.Task.IsCompletedSuccessfully
        ? _completion.Task.Result
        : throw new InvalidOperationException("The update has not been completed yet.");

    /// <summary>
    /// For a command its request gave up on (<see cref="UpdateStatus.Abandoned"/>): how the applier ended it afterwards;
    /// null before the applier completed it, and for every other command.
    /// </summary>
    public UpdateStatus? AfterAbandon => _afterAbandon == 0 ? null : _afterAbandon;

    /// <summary>
    /// Whether the applier has completed the command. A command its request gave up on is still the applier's to
    /// complete: it stays queued and is written (nobody is told), so a retry after a broken connection includes it.
    /// </summary>
    public bool CompletedByApplier =>
        _completion.Task.IsCompleted && (_completion.Task.Result.Status != UpdateStatus.Abandoned || _afterAbandon != 0);

    /// <summary>The applier's outcome. The first one counts; later ones (a failed batch's sweep) change nothing.</summary>
    public void Complete(UpdateOutcome outcome)
    {
        if (_completion.TrySetResult(outcome)) return;
        if (_completion.Task.Result.Status == UpdateStatus.Abandoned && _afterAbandon == 0) _afterAbandon = outcome.Status;
    }

    /// <summary>
    /// The request stops waiting (it timed out): true when it did so before the applier completed the command — the
    /// request then answers for it, and the applier's later outcome goes to <see cref="AfterAbandon"/> — false when
    /// the applier was first, so its outcome (in <see cref="Completion"/>) is the answer. Exactly one side wins.
    /// </summary>
    public bool TryAbandon() => _completion.TrySetResult(AbandonedOutcome);
}
