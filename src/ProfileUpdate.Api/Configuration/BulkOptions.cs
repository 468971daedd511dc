namespace ProfileUpdate.Api.Configuration;

/// <summary>The bulk profile update API.</summary>
public sealed class BulkOptions
{
    [Range(1, 100_000)] public int SubmissionsPerMinute { get; set; } = 50;
    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00")] public TimeSpan StatusRetention { get; set; } = TimeSpan.FromDays(7);
}
