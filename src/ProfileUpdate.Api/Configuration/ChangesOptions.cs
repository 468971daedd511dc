namespace ProfileUpdate.Api.Configuration;

/// <summary>The change feed (docs/api.md §9): every applied change appended to a per-client log, read by pull or Server-Sent Events.</summary>
public sealed class ChangesOptions
{
    /// <summary>Off by default: with it off, writes carry no extra argument and run no extra command.</summary>
    public bool Enabled { get; set; }

    /// <summary>Entries kept per client; the oldest are trimmed first, in the same script call that appends.</summary>
    [Range(1, 100_000_000)] public int MaxEntriesPerClient { get; set; } = 1_000_000;

    /// <summary>Open Server-Sent Event streams per instance; one more is answered 503 with Retry-After.</summary>
    [Range(0, 100_000)] public int MaxStreams { get; set; } = 100;

    /// <summary>How often an open stream looks for new entries (new changes reach it within this, plus a round trip).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:00:01")] public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>A comment line sent on an idle stream this often, so proxies keep it open.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:00:15")] public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// A stream whose reader takes longer than this to accept the events already sent (the server's send buffer stays
    /// full) is ended with a <c>cut-off</c> event: the server never buffers more than one page for a slow reader.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")] public TimeSpan SlowReaderTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
