namespace ProfileUpdate.Client;

/// <summary>Where the service is, who calls it, and how hard to try.</summary>
public sealed class ProfileUpdateClientOptions
{
    /// <summary>
    /// The service's base address, http or https, e.g. <c>http://localhost:5000</c>; a path prefix is kept, with or without
    /// a trailing slash (<c>https://gateway/profile-update</c> calls <c>https://gateway/profile-update/rest/…</c>).
    /// </summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>The client's bearer token, when the client requires one; null for open clients.</summary>
    public string? Token { get; set; }

    /// <summary>The client code (Adobe's CLIENTCODE) every call is made for.</summary>
    public string Client { get; set; } = "";

    /// <summary>
    /// Retries after a 429 (a refusal: nothing was applied) or a 503; 0 turns retries off. A 503 does not always say that
    /// nothing was applied — the store's 503 means "not acknowledged", and the write may be stored after it — so it is
    /// retried only for idempotent calls (updates, deletes, reads, batches, visits with a tntId or thirdPartyId), where
    /// applying twice leaves what applying once does; a visit without ids (a new profile each time) is not retried after a
    /// 503. Nothing else is retried: a request that timed out or lost its connection may have been applied.
    /// </summary>
    public int MaxRetryAttempts { get; set; } = 3;

    /// <summary>
    /// The longest wait before one retry. The server's Retry-After is honoured up to this; an answer with a longer
    /// Retry-After (a used-up daily quota says hours) is not retried at all — retrying before the server's time would only
    /// be refused again — and surfaces at once as <see cref="ProfileUpdateException"/> with its
    /// <see cref="ProfileUpdateException.RetryAfter"/>, so a caller is never blocked for longer than it chose.
    /// </summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Timeout of one call including its retries (a 50 MB batch is applied before it is answered).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How often a waiting batch submission polls the batch status.</summary>
    public TimeSpan BatchPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Called before each retry with the status that caused it and the delay about to be waited (logging, tests).</summary>
    public Action<RetryNotice>? OnRetry { get; set; }

    /// <summary>
    /// A change stream (<see cref="ProfileUpdateClient.FollowChangesAsync"/>) that receives nothing — no entry and not
    /// the keep-alive comment the service sends every 15 s — for this long, or gets no answer to its request in this
    /// time, is taken for dead and reconnected. Longer than the service's Changes:HeartbeatInterval.
    /// </summary>
    public TimeSpan StreamIdleTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The longest wait before a change stream reconnects: the service's <c>retry:</c> (1 s) doubles after each attempt
    /// that delivered nothing up to this, and a 503/429 Retry-After is cut to it.
    /// </summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Called before each reconnect of a change stream, with why and the wait (logging, tests).</summary>
    public Action<ReconnectNotice>? OnReconnect { get; set; }
}

/// <summary>A retry about to happen.</summary>
/// <param name="Attempt">1 for the first retry.</param>
/// <param name="StatusCode">The status that caused it: 429 or 503.</param>
/// <param name="Delay">The wait before the retry.</param>
public sealed record RetryNotice(int Attempt, int StatusCode, TimeSpan Delay);
