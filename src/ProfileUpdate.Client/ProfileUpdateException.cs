namespace ProfileUpdate.Client;

/// <summary>
/// The service refused a call, or a batch did not apply completely: the one exception type this client throws for
/// answers of the service (transport failures stay <see cref="HttpRequestException"/> / timeouts).
/// </summary>
public sealed class ProfileUpdateException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ProfileUpdateException(int statusCode, string serverMessage, TimeSpan? retryAfter = null, BatchStatus? batch = null, bool waitTimedOut = false)
        : base($"{statusCode}: {serverMessage}")
    {
        StatusCode = statusCode;
        ServerMessage = serverMessage;
        RetryAfter = retryAfter;
        Batch = batch;
        WaitTimedOut = waitTimedOut;
    }

    /// <summary>Not used; the status and the server's message are required.</summary>
    public ProfileUpdateException() : this(0, "") { }

    /// <summary>Not used; the status and the server's message are required.</summary>
    public ProfileUpdateException(string message) : this(0, message) { }

    /// <summary>Not used; the status and the server's message are required.</summary>
    public ProfileUpdateException(string message, Exception innerException) : base(message, innerException) => ServerMessage = message;

    /// <summary>The HTTP status (200 for a batch that was accepted but did not apply completely).</summary>
    public int StatusCode { get; }

    /// <summary>The server's sentence (problem+json <c>message</c>/<c>detail</c>, or the XML envelope's <c>message</c>).</summary>
    public string ServerMessage { get; }

    /// <summary>The server's Retry-After on 429/503, after the retries were used up.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>For a batch: its status with counts and failed rows.</summary>
    public BatchStatus? Batch { get; }

    /// <summary>
    /// True when waiting for a batch ended at its <see cref="BatchSendOptions.WaitTimeout"/> before it was complete: the
    /// batch was accepted and is still being applied (not failed); <see cref="Batch"/> is the last status seen, so check
    /// it again later by its <see cref="BatchStatus.BatchId"/>.
    /// </summary>
    public bool WaitTimedOut { get; }

    /// <summary>For a batch: the failed rows (empty otherwise).</summary>
    public IReadOnlyList<BatchFailedRow> FailedRows => Batch?.FailedRows ?? [];
}
