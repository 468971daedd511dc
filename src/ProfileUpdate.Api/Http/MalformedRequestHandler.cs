using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace ProfileUpdate.Api.Http;

/// <summary>
/// Turns a request the client broke into a 4xx instead of a 500: malformed framing that Kestrel reports as
/// <see cref="BadHttpRequestException"/> (bad chunks, body ended early, body too large) or as a bare
/// <see cref="IOException"/> (a chunk size that overflows — a known Kestrel behaviour), and multipart bodies that never
/// end or carry oversized part headers (<see cref="InvalidDataException"/>). Anything else is left to the next handler.
/// A client that hung up while its body was read is no fault to answer: 499, no body and nothing above Debug (docs/api.md
/// §7), however the hang-up surfaced. Failures writing a batch's spool file never come here: <see cref="Bulk.BatchSpool"/>
/// catches them and the bulk endpoints answer 503, since a full disk is the server's fault, not the request's.
/// </summary>
internal sealed partial class MalformedRequestHandler(IProblemDetailsService problems, ILogger<MalformedRequestHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (ClientGone(exception, context)) return HungUp(context);
        if (ClientFault(exception) is not { } status) return false;
        LogRefused(logger, exception.GetType().Name, status, context.TraceIdentifier);
        context.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = new ProblemDetails
            {
                Status = status,
                Detail = Detail(status),
            },
        });
    }

    /// <summary>
    /// A 408 is Kestrel's MinRequestBodyDataRate giving up on a body that stalled or trickled (ServiceComposition): a
    /// timeout, not malformed framing, so the client is told to send the body without pausing rather than to fix it.
    /// </summary>
    internal const string SlowBody =
        "The request body stopped arriving, or arrived more slowly than the server accepts, before it was complete (fewer bytes " +
        "than its Content-Length announced, or a chunked body without its last chunk); the server stopped waiting and nothing " +
        "was applied. Send the whole body without pausing.";

    internal static string Detail(int status) => status switch
    {
        StatusCodes.Status413PayloadTooLarge => "The request body is larger than this endpoint accepts.",
        StatusCodes.Status408RequestTimeout => SlowBody,
        _ => "The request body could not be read: its framing (Content-Length, chunked encoding or multipart boundaries) is malformed.",
    };

    /// <summary>Kestrel's text for a body that stopped short of its length or its last chunk (it has no public reason code).</summary>
    private const string BodyEndedEarly = "Unexpected end of request content.";

    /// <summary>
    /// Whether the exception is the client hanging up. A body that ends early means the client closed its side; Kestrel
    /// has then already closed the connection's output (no answer can reach the client) but cancels RequestAborted on
    /// another thread, so that token alone would call the same hang-up a 400 or — when it won the race against writing
    /// the answer — a 500. Only failures of reading the request count: any other exception stays a fault to log.
    /// </summary>
    private static bool ClientGone(Exception ex, HttpContext context) => ex switch
    {
        ConnectionResetException or ConnectionAbortedException => true,
        BadHttpRequestException { StatusCode: StatusCodes.Status400BadRequest, Message: BodyEndedEarly } => true,
        BadHttpRequestException or IOException or OperationCanceledException or InvalidDataException => context.RequestAborted.IsCancellationRequested,
        _ => false,
    };

    private static bool HungUp(HttpContext context)
    {
        if (!context.Response.HasStarted) context.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
        return true;
    }

    private static int? ClientFault(Exception ex) => ex switch
    {
        BadHttpRequestException bad => bad.StatusCode,
        InvalidDataException => StatusCodes.Status400BadRequest,
        // A client that went away was answered by ClientGone before; anything else reading the body is malformed input.
        IOException => StatusCodes.Status400BadRequest,
        _ => null,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Request refused as malformed ({Error}, request {RequestId}); answered {Status}")]
    private static partial void LogRefused(ILogger logger, string error, int status, string requestId);
}
