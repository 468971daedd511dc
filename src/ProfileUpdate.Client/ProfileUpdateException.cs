namespace ProfileUpdate.Client;

/// <summary>
/// The service refused a call (<see cref="StatusCode"/> is the HTTP status of the refusal), or — as the derived
/// <see cref="BatchNotAppliedException"/> — a batch it accepted did not end with every row applied: the one exception
/// family this client throws for answers of the service (transport failures stay <see cref="HttpRequestException"/> /
/// timeouts). Catching this type catches both.
/// </summary>
public class ProfileUpdateException : Exception
{
    /// <summary>Creates the exception for a refusal: its HTTP status and the server's message.</summary>
    public ProfileUpdateException(int statusCode, string serverMessage, TimeSpan? retryAfter = null, BatchStatus? batch = null, bool waitTimedOut = false)
        : this($"{statusCode}: {serverMessage}", statusCode, serverMessage, retryAfter, batch, waitTimedOut)
    {
    }

    /// <summary>Not used; the status and the server's message are required.</summary>
    public ProfileUpdateException() : this(0, "") { }

    /// <summary>Not used; the status and the server's message are required.</summary>
    public ProfileUpdateException(string message) : this(0, message) { }

    /// <summary>Not used; the status and the server's message are required.</summary>
    public ProfileUpdateException(string message, Exception innerException) : base(message, innerException) => ServerMessage = message;

    /// <summary>For <see cref="BatchNotAppliedException"/>: a message that names no HTTP status, for there was none.</summary>
    private protected ProfileUpdateException(string message, int statusCode, string serverMessage, TimeSpan? retryAfter, BatchStatus? batch, bool waitTimedOut)
        : base(message)
    {
        StatusCode = statusCode;
        ServerMessage = serverMessage;
        RetryAfter = retryAfter;
        Batch = batch;
        WaitTimedOut = waitTimedOut;
    }

    /// <summary>
    /// The HTTP status of the refusal; 0 for a <see cref="BatchNotAppliedException"/>, whose batch the service accepted
    /// (no status refused anything: see its <see cref="Batch"/>).
    /// </summary>
    public int StatusCode { get; }

    /// <summary>
    /// The server's sentence (problem+json <c>message</c>/<c>detail</c>, or the XML envelope's <c>message</c>); for a
    /// <see cref="BatchNotAppliedException"/>, the client's sentence about the batch.
    /// </summary>
    public string ServerMessage { get; }

    /// <summary>The server's Retry-After on 429/503, after the retries were used up.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>For a batch: its status with counts and failed rows.</summary>
    public BatchStatus? Batch { get; }

    /// <summary>
    /// True when waiting for a batch ended at its <see cref="BatchSendOptions.WaitTimeout"/> before it was complete: the
    /// batch was accepted and is still being applied (not failed); <see cref="Batch"/> is the last status seen, so check
    /// it again later by its <see cref="BatchStatus.BatchId"/>. Only a <see cref="BatchNotAppliedException"/> sets it.
    /// </summary>
    public bool WaitTimedOut { get; }

    /// <summary>For a batch: the failed rows (empty otherwise).</summary>
    public IReadOnlyList<BatchFailedRow> FailedRows => Batch?.FailedRows ?? [];
}

/// <summary>
/// A batch the service accepted that did not end with every row applied, found while waiting for it: rows failed (or,
/// for an update, found no profile; see <see cref="BatchSendOptions.ThrowOnFailedRows"/>), the batch is stuck, or the
/// wait ended first (<see cref="ProfileUpdateException.WaitTimedOut"/>). Not a refusal: <see cref="ProfileUpdateException.StatusCode"/>
/// is 0 and <see cref="ProfileUpdateException.Batch"/> is always set (counts, failed rows, its id to check again).
/// </summary>
public sealed class BatchNotAppliedException : ProfileUpdateException
{
    /// <summary>Creates the exception for <paramref name="batch"/>, with a sentence that says what happened to it.</summary>
    public BatchNotAppliedException(BatchStatus batch, string message, bool waitTimedOut = false)
        : base(message, 0, message, null, batch ?? throw new ArgumentNullException(nameof(batch)), waitTimedOut)
    {
    }

    /// <summary>Not used; the batch status is required.</summary>
    public BatchNotAppliedException() : base() { }

    /// <summary>Not used; the batch status is required.</summary>
    public BatchNotAppliedException(string message) : base(message) { }

    /// <summary>Not used; the batch status is required.</summary>
    public BatchNotAppliedException(string message, Exception innerException) : base(message, innerException) { }

    /// <summary>The batch's status when the exception was thrown (never null here).</summary>
    public new BatchStatus Batch => base.Batch!;
}
