using System.Diagnostics;

namespace ProfileUpdate.Api.Updates;

/// <summary>Times an applier batch without allocating.</summary>
public readonly struct BatchTimer
{
    private readonly long _start = Stopwatch.GetTimestamp();

    public BatchTimer()
    {
    }

    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_start);
}
