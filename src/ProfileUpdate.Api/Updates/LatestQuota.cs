using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using ProfileUpdate.Api.Quota;

namespace ProfileUpdate.Api.Updates;

/// <summary>
/// The latest quota decision this instance saw per client — the applier gets one per batch and client, a look for a
/// refused request another — so that a refused update (4xx) carries the RateLimit header from what the instance already
/// knows instead of a store call per invalid request (a flood of them would be a flood of store calls, and a slow store
/// would hold each 400). Only a decision at most Quota:RecentDecisionMaxAge old is used, and only while its oldest unit
/// has not freed (after that the count is higher and the next reset unknown); else the store is asked, bounded by
/// Quota:PeekTimeout, one look per client at a time.
/// </summary>
public sealed class LatestQuota(QuotaRepository quota, TimeProvider time, IOptions<ProfileUpdateOptions> options)
{
    private readonly ConcurrentDictionary<string, Slot> _slots = new(StringComparer.Ordinal);
    private readonly TimeSpan _maxAge = options.Value.Quota.RecentDecisionMaxAge;
    private readonly TimeSpan _peekTimeout = options.Value.Quota.PeekTimeout;

    /// <summary>The instant a quota call is sent, for <see cref="Record"/>.</summary>
    public long Timestamp => time.GetTimestamp();

    /// <summary>
    /// Records a quota decision of a call sent at <paramref name="sentAt"/> (<see cref="Timestamp"/>). No lock: the
    /// applier records one per batch and client.
    /// </summary>
    public void Record(string client, QuotaDecision decision, long sentAt)
    {
        if (!_slots.TryGetValue(client, out var slot)) slot = _slots.GetOrAdd(client, static _ => new Slot());
        slot.Write(Math.Max(0, decision.Remaining), decision.ResetSeconds, sentAt);
    }

    /// <summary>The remaining count last seen for each client (the quota gauge).</summary>
    public IEnumerable<(string Client, long Remaining)> Remaining()
    {
        foreach (var (client, slot) in _slots)
            if (slot.TryRead(out var seen)) yield return (client, seen.Remaining);
    }

    /// <summary>
    /// The quota for the RateLimit header of a refused update: a recent decision, its reset moved on by the time since,
    /// without a store call; else the store's, if it answers within Quota:PeekTimeout; else null (the header is left off).
    /// </summary>
    public ValueTask<QuotaState?> ForRefusalAsync(string client, long limit)
    {
        _slots.TryGetValue(client, out var slot);
        if (slot is not null && Recent(slot, limit) is { } state) return new(state);
        return PeekAsync(client, limit, slot ?? _slots.GetOrAdd(client, static _ => new Slot()));
    }

    /// <summary>The slot's decision as it stands now, if it is recent enough to answer without the store.</summary>
    private QuotaState? Recent(Slot slot, long limit) =>
        _maxAge > TimeSpan.Zero && slot.TryRead(out var seen) ? Adjusted(seen, limit, _maxAge) : null;

    /// <summary>A decision as it stands now, or null when it is older than <paramref name="maxAge"/> or has run out.</summary>
    private QuotaState? Adjusted(Seen seen, long limit, TimeSpan maxAge)
    {
        // Measured from when the call was sent: never younger than the decision really is.
        var age = time.GetElapsedTime(seen.SentAt);
        if (age > maxAge) return null;
        if (seen.ResetSeconds == 0) return new QuotaState(limit, seen.Remaining, 0);
        // The oldest unit has freed since: more remain than the decision says, and when the next frees is unknown.
        if (age >= TimeSpan.FromSeconds(seen.ResetSeconds)) return null;
        // Whole seconds elapsed: the reported reset is never earlier than the store's would be now.
        return new QuotaState(limit, seen.Remaining, seen.ResetSeconds - (long)age.TotalSeconds);
    }

    private async ValueTask<QuotaState?> PeekAsync(string client, long limit, Slot slot)
    {
        var peek = slot.CurrentPeek;
        if (peek is null)
        {
            var mine = new Peek(time.GetTimestamp());
            peek = slot.StartPeek(mine);
            if (ReferenceEquals(peek, mine))
            {
                // A look that ended between this request's look at the slot and now left its answer there.
                if (Recent(slot, limit) is { } state)
                {
                    slot.EndPeek(mine);
                    mine.Finish(null);
                    return state;
                }
                _ = RunPeekAsync(client, limit, slot, mine);
            }
        }
        // Waits for the look in flight for at most what is left of its bound: a look the store holds does not make every
        // refused request after it wait a bound of its own.
        var left = _peekTimeout - time.GetElapsedTime(peek.StartedAt);
        if (left <= TimeSpan.Zero)
        {
            if (!peek.Decision.IsCompleted) return null;
            left = TimeSpan.Zero;
        }
        QuotaDecision? decision;
        try
        {
            decision = await peek.Decision.WaitAsync(left, time);
        }
        catch (TimeoutException)
        {
            return null;
        }
        // No answer of its own (the store could not say, or the look found one in the slot): whatever is recent.
        if (decision is not { } d) return Recent(slot, limit);
        // The look's own answer, unless the slot has since learnt a later one (a batch sent after the look).
        var fromLook = new Seen(Math.Max(0, d.Remaining), d.ResetSeconds, peek.StartedAt);
        var latest = slot.TryRead(out var seen) && seen.SentAt > fromLook.SentAt ? seen : fromLook;
        return Adjusted(latest, limit, TimeSpan.MaxValue); // fresh: only the reset is checked
    }

    private async Task RunPeekAsync(string client, long limit, Slot slot, Peek peek)
    {
        try
        {
            var decision = await quota.TryPeekAsync(client, limit);
            if (decision is { } d) slot.Write(Math.Max(0, d.Remaining), d.ResetSeconds, peek.StartedAt);
            slot.EndPeek(peek);
            peek.Finish(decision);
        }
        catch (Exception ex)
        {
            // Not a store failure (TryPeekAsync answers those with null): the requests waiting for it fail as they would
            // had each made the call itself.
            slot.EndPeek(peek);
            peek.Fail(ex);
        }
    }

    /// <summary>One look at the store's quota, shared by the refused requests of a client that arrive while it is in flight.</summary>
    private sealed class Peek(long startedAt)
    {
        private readonly TaskCompletionSource<QuotaDecision?> _decision = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long StartedAt { get; } = startedAt;

        public Task<QuotaDecision?> Decision => _decision.Task;

        public void Finish(QuotaDecision? decision) => _decision.TrySetResult(decision);

        public void Fail(Exception exception) => _decision.TrySetException(exception);
    }

    private sealed record Seen(long Remaining, long ResetSeconds, long SentAt);

    /// <summary>
    /// One client's latest decision: an immutable record replaced whole, so a reader never sees half of one. One small
    /// object per batch and client, against the kilobytes every update allocates. Several batches of one client may
    /// complete at once; the decision of the call sent last wins (the calls go down one connection and run in the order
    /// sent).
    /// </summary>
    private sealed class Slot
    {
        private Seen? _seen;
        private Peek? _peek;

        public Peek? CurrentPeek => Volatile.Read(ref _peek);

        /// <summary>Makes <paramref name="peek"/> the look in flight unless there is one; returns the one in flight.</summary>
        public Peek StartPeek(Peek peek) => Interlocked.CompareExchange(ref _peek, peek, null) ?? peek;

        public void EndPeek(Peek peek) => Interlocked.CompareExchange(ref _peek, null, peek);

        public void Write(long remaining, long resetSeconds, long sentAt)
        {
            var next = new Seen(remaining, resetSeconds, sentAt);
            var current = Volatile.Read(ref _seen);
            while (current is null || sentAt >= current.SentAt)
            {
                var found = Interlocked.CompareExchange(ref _seen, next, current);
                if (ReferenceEquals(found, current)) return;
                current = found;
            }
        }

        public bool TryRead([NotNullWhen(true)] out Seen? seen) => (seen = Volatile.Read(ref _seen)) is not null;
    }
}
