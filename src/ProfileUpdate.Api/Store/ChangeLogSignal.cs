using System.Collections.Concurrent;

namespace ProfileUpdate.Api.Store;

/// <summary>
/// Tells this instance's open change-feed streams that a client's log has new entries, so an entry written here reaches
/// them at once instead of at their next poll (Changes:PollInterval). Entries written by other instances are still found
/// by polling. A stream takes its wait before it reads the log, so an entry appended between its read and its wait is
/// not left for the poll.
/// </summary>
public sealed class ChangeLogSignal
{
    // One wait per client with a stream waiting, shared by all its streams; removed (and completed) by the next append,
    // so the map holds at most one entry per client that has streams open.
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waits = new(StringComparer.Ordinal);

    /// <summary>Completes at the next append to one of <paramref name="client"/>'s logs by this instance.</summary>
    public Task NextAppendAsync(string client) =>
        _waits.GetOrAdd(client, static _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>Entries were appended to <paramref name="client"/>'s log (their write has completed).</summary>
    public void Appended(string client)
    {
        // The common case on the write path is that no stream waits: a lock-free lookup (IsEmpty and TryRemove take locks).
        if (_waits.TryGetValue(client, out _) && _waits.TryRemove(client, out var wait)) wait.TrySetResult();
    }
}
