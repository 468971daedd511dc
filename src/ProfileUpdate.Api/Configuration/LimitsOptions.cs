namespace ProfileUpdate.Api.Configuration;

/// <summary>Size limits of requests, attribute names and values, and batch files.</summary>
public sealed class LimitsOptions
{
    /// <summary>
    /// Longest request target (path + query) of an update, any method. At most 65,000: Kestrel's request line (method,
    /// target, version) is capped at 65,536 bytes (ServiceComposition), and a longer target would get Kestrel's bare 414
    /// instead of the endpoint's, which names this limit.
    /// </summary>
    [Range(256, 65_000)] public int MaxGetBytes { get; set; } = 8192;
    [Range(1024, 16_777_216)] public int MaxPostBytes { get; set; } = 61_440;
    [Range(1, 4096)] public int MaxNameLength { get; set; } = 128;
    [Range(1, 65_536)] public int MaxValueLength { get; set; } = 256;
    /// <summary>The first batch file size refused: a file must be smaller (Adobe: "smaller than 50 MB").</summary>
    [Range(1024, 1_073_741_824)] public long MaxBatchBytes { get; set; } = 52_428_800;
    [Range(1, 10_000_000)] public int MaxBatchRows { get; set; } = 500_000;
}
