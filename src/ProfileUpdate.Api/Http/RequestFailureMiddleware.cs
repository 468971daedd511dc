using System.Xml.Linq;

namespace ProfileUpdate.Api.Http;

/// <summary>
/// Turns a request the client broke into a 4xx instead of a 500: malformed framing that Kestrel reports as
/// <see cref="BadHttpRequestException"/> (bad chunks, body ended early, body too large) or as a bare
/// <see cref="IOException"/> (a chunk size that overflows — a known Kestrel behaviour), and multipart bodies that never
/// end or carry oversized part headers (<see cref="InvalidDataException"/>). Anything else is a real server error and
/// is left to propagate.
/// </summary>
public sealed class RequestFailureMiddleware(RequestDelegate next, ILogger<RequestFailureMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception ex) when (!context.Response.HasStarted && ClientFault(ex, context) is { } status)
        {
            logger.LogInformation("Request refused as malformed ({Error}, request {RequestId}); answered {Status}", ex.GetType().Name, status, context.TraceIdentifier);
            context.Response.Clear();
            var message = status == StatusCodes.Status413PayloadTooLarge
                ? "The request body is larger than this endpoint accepts."
                : "The request body could not be read: its framing (Content-Length, chunked encoding or multipart boundaries) is malformed.";
            if (Security.ClientAccess.IsBulk(context.Request.Path))
            {
                context.Response.StatusCode = status;
                context.Response.ContentType = "application/xml; charset=utf-8";
                await context.Response.WriteAsync(new XElement("response", new XElement("success", "false"),
                    new XElement("batchStatus", ""), new XElement("message", message)).ToString(SaveOptions.DisableFormatting));
                return;
            }
            await Problems.Create(status, message).ExecuteAsync(context);
        }
    }

    private static int? ClientFault(Exception ex, HttpContext context) => ex switch
    {
        BadHttpRequestException bad => bad.StatusCode,
        InvalidDataException => StatusCodes.Status400BadRequest,
        // A client that went away is not a fault to answer; anything else reading the body is malformed input.
        IOException when !context.RequestAborted.IsCancellationRequested => StatusCodes.Status400BadRequest,
        _ => null,
    };
}
