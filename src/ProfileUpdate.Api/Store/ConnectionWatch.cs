using System.Diagnostics;
using StackExchange.Redis;

namespace ProfileUpdate.Api.Store;

/// <summary>
/// Knows since when one multiplexer's connection has been down, and lets a caller wait (bounded) for it to come back.
/// The client drops and re-opens a connection that has answered nothing for a while (e.g. while Redis pauses writes), or
/// after a restart or failover, and re-opening takes up to a heartbeat or two: a command that fails fast in that gap
/// would answer 503 where a moment later it would have succeeded. Past the grace (a real outage) waiting returns at once,
/// so 503s stay fast — unless the sibling connection to the same store is up: the store answers, and this connection is
/// about to come back too. Lost/restored are logged with the endpoint and failure type only (exception texts can name keys).
/// </summary>
internal sealed partial class ConnectionWatch
{
    private readonly IConnectionMultiplexer _multiplexer;
    private readonly IConnectionMultiplexer _sibling;
    private readonly string _role;
    private readonly TimeSpan _grace;
    private readonly ILogger _logger;
    // Stopwatch timestamp of the moment the connection was reported lost, 0 while connected. Real time on purpose, like
    // the client's own timeouts: it bounds a wait on a real socket (tests' fake clocks drive quota windows only).
    private long _lostAt;
    // Completed (and replaced) each time the connection is restored; waiters await it instead of polling.
    private TaskCompletionSource _restored = NewSignal();

    public ConnectionWatch(IConnectionMultiplexer multiplexer, IConnectionMultiplexer sibling, string role, TimeSpan grace, ILogger logger)
    {
        (_multiplexer, _sibling, _role, _grace, _logger) = (multiplexer, sibling, role, grace, logger);
        if (!multiplexer.IsConnected) _lostAt = Stopwatch.GetTimestamp();
        multiplexer.ConnectionFailed += OnConnectionFailed;
        multiplexer.ConnectionRestored += OnConnectionRestored;
    }

    /// <summary>
    /// Waits, if the connection is down, until it is back — but never past the grace after it was lost, or after now while
    /// the sibling connection is up. Callers then just send: on a connection still down the command fails at once
    /// (fail-fast backlog policy) and they answer 503.
    /// </summary>
    public async ValueTask WaitAsync()
    {
        if (_multiplexer.IsConnected) return;
        // The client raises no ConnectionFailed when it drops a connection it judged dead (only ConnectionRestored when
        // the new one is up): without the event's time, the grace counts from now. Failed reconnects do raise it.
        var lostAt = Volatile.Read(ref _lostAt);
        // After an outage longer than the grace, the two connections re-open on their own retry schedules, up to a retry
        // interval apart: the first one back proves the store answers, so a request on the other one waits for it rather
        // than getting a 503 just after the previous request was answered.
        if (lostAt == 0 || _sibling.IsConnected) lostAt = Stopwatch.GetTimestamp();
        // Awaits the client's ConnectionRestored instead of polling. Armed before each look at IsConnected: a restore
        // between the two has either completed the armed signal or is seen by the look, so it is never missed; and a
        // wake-up that still finds the connection down (another endpoint's restore) waits again for what is left.
        while (_grace - Stopwatch.GetElapsedTime(lostAt) is var remaining && remaining > TimeSpan.Zero)
        {
            var restored = Volatile.Read(ref _restored).Task;
            if (_multiplexer.IsConnected) return;
            try
            {
                await restored.WaitAsync(remaining);
            }
            catch (TimeoutException)
            {
                // Past the grace: the caller sends anyway and, on a connection still down, gets its 503 at once.
                return;
            }
            if (_multiplexer.IsConnected) return;
        }
    }

    /// <summary>
    /// Completes at the next restore of this connection. Taken before a call, it tells a caller whose call then failed
    /// with a connection error when to try again: the client drops a connection it judged dead without raising
    /// ConnectionFailed and may still report itself connected in that gap, so IsConnected alone cannot say.
    /// </summary>
    public Task NextRestore => Volatile.Read(ref _restored).Task;

    /// <summary>
    /// After a call failed on a broken connection: waits for <paramref name="restore"/> (taken before the call), but never
    /// past the grace after the loss was reported (from now when it was not), so a real outage still answers within it.
    /// </summary>
    public async Task WaitForRestoreAsync(Task restore)
    {
        var lostAt = Volatile.Read(ref _lostAt);
        var remaining = lostAt == 0 ? _grace : _grace - Stopwatch.GetElapsedTime(lostAt);
        if (remaining <= TimeSpan.Zero) return;
        await Task.WhenAny(restore, Task.Delay(remaining));
    }


    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Detach()
    {
        _multiplexer.ConnectionFailed -= OnConnectionFailed;
        _multiplexer.ConnectionRestored -= OnConnectionRestored;
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType != ConnectionType.Interactive) return;
        Interlocked.CompareExchange(ref _lostAt, Stopwatch.GetTimestamp(), 0);
        LogConnectionLost(_logger, _role, e.EndPoint?.ToString(), e.FailureType);
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType != ConnectionType.Interactive) return;
        var lostAt = Interlocked.Exchange(ref _lostAt, 0);
        Interlocked.Exchange(ref _restored, NewSignal()).TrySetResult();
        // No time when the old connection was dropped silently (see WaitAsync).
        LogConnectionRestored(_logger, _role, e.EndPoint?.ToString(), lostAt == 0 ? null : (long)Stopwatch.GetElapsedTime(lostAt).TotalMilliseconds);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Profile store {Role} connection to {EndPoint} lost ({FailureType}); reconnecting")]
    private static partial void LogConnectionLost(ILogger logger, string role, string? endPoint, ConnectionFailureType failureType);

    [LoggerMessage(Level = LogLevel.Information, Message = "Profile store {Role} connection to {EndPoint} restored (down {DownMilliseconds} ms)")]
    private static partial void LogConnectionRestored(ILogger logger, string role, string? endPoint, long? downMilliseconds);
}
