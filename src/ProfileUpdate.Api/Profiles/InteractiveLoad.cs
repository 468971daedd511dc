namespace ProfileUpdate.Api.Profiles;

/// <summary>
/// How many single updates and visits this instance has applied in the last second or so: the signal a running batch
/// uses to give way (Bulk:YieldAboveUpdatesPerSecond). Two one-second buckets, so the rate never reads zero just because
/// a new second began; single updates are counted once per applier batch, not one by one.
/// </summary>
public sealed class InteractiveLoad(TimeProvider time)
{
    private readonly Lock _gate = new();
    private long _second; // the second (of TimeProvider's timestamp clock) the current bucket counts
    private long _current;
    private long _previous;

    /// <summary>Records <paramref name="updates"/> single updates (or visits) applied now.</summary>
    public void Applied(int updates)
    {
        var second = Second();
        lock (_gate)
        {
            Roll(second);
            _current += updates;
        }
    }

    /// <summary>
    /// Single updates and visits per second: the previous full second, or the current one once it has counted more (a
    /// burst that starts is seen at once; one that stops is forgotten within two seconds).
    /// </summary>
    public long UpdatesPerSecond
    {
        get
        {
            var second = Second();
            lock (_gate)
            {
                Roll(second);
                return Math.Max(_previous, _current);
            }
        }
    }

    private long Second() => time.GetTimestamp() / time.TimestampFrequency;

    private void Roll(long second)
    {
        if (second == _second) return;
        _previous = second == _second + 1 ? _current : 0;
        _current = 0;
        _second = second;
    }
}
