using System.Diagnostics.Metrics;

namespace ProfileUpdate.Api.Changes;

/// <summary>
/// The open Server-Sent Event streams of this instance: at most Changes:MaxStreams at once (each holds a connection and
/// polls the store), and the gauge of how many are open.
/// </summary>
public sealed class ChangeStreams
{
    private readonly int _max;
    private readonly Counter<long> _cutOffs;
    private int _open;
    private long _cutOffCount;

    public ChangeStreams(IOptions<ProfileUpdateOptions> options, IMeterFactory meterFactory)
    {
        _max = options.Value.Changes.MaxStreams;
        var meter = meterFactory.Create(ServiceMeter.Name);
        meter.CreateObservableUpDownCounter("profileupdate.changes.streams", () => Volatile.Read(ref _open), "{stream}",
            "Change-feed Server-Sent Event streams open on this instance");
        _cutOffs = meter.CreateCounter<long>("profileupdate.changes.streams.cut_off", "{stream}",
            "Change-feed streams ended because their reader did not keep up");
    }

    /// <summary>Streams cut off for a slow reader since start.</summary>
    public long CutOffs => Interlocked.Read(ref _cutOffCount);

    public void CutOff()
    {
        Interlocked.Increment(ref _cutOffCount);
        _cutOffs.Add(1);
    }

    public int Open => Volatile.Read(ref _open);

    /// <summary>Takes a stream slot; false when all are taken (the caller answers 503).</summary>
    public bool TryOpen()
    {
        if (Interlocked.Increment(ref _open) <= _max) return true;
        Interlocked.Decrement(ref _open);
        return false;
    }

    public void Close() => Interlocked.Decrement(ref _open);
}
