namespace ProfileUpdate.Api.Configuration;

/// <summary>The bulk profile update API: submission limits, status retention, and the spool batches are applied from.</summary>
public sealed class BulkOptions
{
    [Range(1, 100_000)] public int SubmissionsPerMinute { get; set; } = 50;

    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00")] public TimeSpan StatusRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// Where accepted batch files wait until they are applied. It must survive a restart of the service (a batch
    /// acknowledged with 200 is resumed from here) and belong to one instance. Default: ProfileUpdate/spool under the
    /// user's local application data folder.
    /// </summary>
    public string SpoolDirectory { get; set; } = Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify),
        "ProfileUpdate", "spool");

    /// <summary>Batches applied at once by this instance; the rest wait in the spool in arrival order.</summary>
    [Range(1, 64)] public int MaxConcurrentBatches { get; set; } = 2;

    /// <summary>Spool space for every accepted batch not yet complete; an upload that does not fit gets 503.</summary>
    [AtLeast(1_048_576)] public long MaxSpoolBytes { get; set; } = 1_073_741_824;

    /// <summary>
    /// The longest row line read from a batch file, in bytes. A row is already refused when it is longer than any valid
    /// row of its header could be (every cell at its limit, fully percent-encoded); this caps that bound for headers of
    /// many columns, so applying a batch holds at most this much of one line in memory whatever the file holds. A longer
    /// line is a failed row, skipped without being read into memory. The default fits any valid row of up to 340
    /// attribute columns at the default limits.
    /// </summary>
    [Range(4096, 67_108_864)] public int MaxRowBytes { get; set; } = 1_048_576;

    /// <summary>Rows applied and recorded together: the unit of progress and of a checkpoint.</summary>
    [Range(50, 10_000)] public int ChunkRows { get; set; } = 250;

    /// <summary>
    /// Chunks of one batch whose writes may be in flight at once. More is faster, but a single update waits in Redis
    /// behind what a batch has in flight (README, Bulk at scale, has the measurements).
    /// </summary>
    [Range(1, 16)] public int ChunksInFlight { get; set; } = 6;

    /// <summary>
    /// A pause after each applied chunk of a batch, leaving the machine's cores and Redis to single updates for that
    /// long; zero applies batches as fast as the store takes them.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:00:01")] public TimeSpan PauseBetweenChunks { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// Single updates and visits per second on this instance above which a running batch gives way: one chunk in flight
    /// at a time, each followed by a pause as long as the chunk took, so they keep their latency while a batch applies
    /// (README, Bulk at scale, has the measurements). Zero: batches never give way.
    /// </summary>
    [AtLeast(0)] public int YieldAboveUpdatesPerSecond { get; set; } = 1000;

    /// <summary>A batch whose instance has not renewed its lease for this long, and that nobody resumed, is reported stuck.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")] public TimeSpan LeaseTimeout { get; set; } = TimeSpan.FromMinutes(2);
}
