namespace ProfileUpdate.Api.Configuration;

/// <summary>The connections to the profile store (Redis, or the embedded store) and how requests behave while it is unavailable.</summary>
public sealed class StoreOptions
{
    /// <summary>Seconds sent in Retry-After when the store is unavailable or the queue is full.</summary>
    [Range(1, 3600)] public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>
    /// How long after a store connection is lost a batch (or a profile read) still waits for it to come back before answering 503: bridges
    /// a reconnect (the client re-opens a connection it judged dead within about a second) without slowing 503s in an outage.
    /// Less than <see cref="ApplierOptions.RequestTimeout"/>; 0 answers 503 at once.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")] public TimeSpan ReconnectGrace { get; set; } = TimeSpan.FromSeconds(1.5);

    [Required, ValidateObjectMembers] public EmbeddedStoreOptions Embedded { get; set; } = new();
}
