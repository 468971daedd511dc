namespace ProfileUpdate.Testing;

/// <summary>
/// Waiting for something to happen instead of sleeping for a guessed time: a fixed sleep is either too short on a busy
/// machine (flaky) or longer than needed everywhere else (slow). The deadlines passed here are meant to be generous; they
/// only bound how long a broken test hangs.
/// </summary>
public static class Eventually
{
    /// <summary>How often a condition is checked unless the caller needs a tighter or looser poll.</summary>
    public static readonly TimeSpan DefaultPoll = TimeSpan.FromMilliseconds(25);

    /// <summary>Whether <paramref name="condition"/> held before <paramref name="deadline"/> ran out (checked at least once).</summary>
    public static async Task<bool> TryWaitUntilAsync(Func<Task<bool>> condition, TimeSpan deadline, TimeSpan? poll = null)
    {
        using var timeout = new CancellationTokenSource(deadline);
        while (true)
        {
            if (await condition().ConfigureAwait(false)) return true;
            try
            {
                await Task.Delay(poll ?? DefaultPoll, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // One last look: the condition may have come true while the poll slept.
                return await condition().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Returns once <paramref name="condition"/> holds; throws a <see cref="TimeoutException"/> naming <paramref name="what"/> if it never does.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan deadline, string what, TimeSpan? poll = null)
    {
        if (!await TryWaitUntilAsync(condition, deadline, poll).ConfigureAwait(false))
            throw new TimeoutException($"Gave up after {deadline.TotalSeconds:0.#} s waiting for: {what}");
    }

    /// <summary>The blocking form, for constructors and other places that cannot await.</summary>
    public static void WaitUntil(Func<bool> condition, TimeSpan deadline, string what, TimeSpan? poll = null) =>
        // Run on the thread pool so that blocking here never waits on a synchronization context the wait itself needs.
        Task.Run(() => WaitUntilAsync(() => Task.FromResult(condition()), deadline, what, poll)).GetAwaiter().GetResult();
}
