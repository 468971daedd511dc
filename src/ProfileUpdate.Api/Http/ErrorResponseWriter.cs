using System.Xml.Linq;
using Microsoft.AspNetCore.WebUtilities;

namespace ProfileUpdate.Api.Http;

/// <summary>
/// The one writer of error bodies, behind <see cref="IProblemDetailsService"/>: the handlers' problems
/// (<see cref="Problems"/>), the exception handlers' 4xx/503/500 and the framework's own errors (unmatched routes,
/// methods, empty-bodied status codes) all come here. The format is the endpoint's, not the URL's: the bulk XML envelope
/// where the endpoint carries <see cref="XmlErrorEnvelope"/>, else RFC 9457 problem+json with the extra <c>message</c>
/// field (the same text as <c>detail</c>) that Adobe's JSON APIs use.
/// </summary>
/// <remarks>
/// It writes whatever the client's Accept header says: an error must reach curl, Swagger UI and browsers alike, and
/// ASP.NET Core's default writer declines clients that do not accept JSON (leaving an empty body). It never throws for a
/// client that hung up: that answer is a 499 without a body, and a body is written without the request's abort token —
/// an error body is small enough never to wait on the client, and a write to a connection that has gone is dropped by
/// Kestrel, while a cancelled write would throw out of the exception handler and turn the hang-up into a 500.
/// </remarks>
internal sealed class ErrorResponseWriter : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        if (http.RequestAborted.IsCancellationRequested)
        {
            // The client hung up: nobody reads the answer, and the request log records the hang-up (docs/api.md §7).
            if (!http.Response.HasStarted) http.Response.StatusCode = StatusCodes.Status499ClientClosedRequest;
            return ValueTask.CompletedTask;
        }
        var problem = context.ProblemDetails;
        var status = problem.Status ?? http.Response.StatusCode;
        problem.Status = status;
        problem.Title ??= ReasonPhrases.GetReasonPhrase(status);
        problem.Detail ??= DefaultDetail(status);
        problem.Extensions["message"] = problem.Detail;
        http.Response.StatusCode = status;

        if (XmlErrorEnvelope.AppliesTo(http))
        {
            http.Response.ContentType = XmlErrorEnvelope.ContentType;
            var body = new XElement("response",
                new XElement("success", "false"),
                new XElement("batchStatus", string.Empty),
                new XElement("message", XmlText.Safe(problem.Detail))).ToString(SaveOptions.DisableFormatting);
            return new ValueTask(http.Response.WriteAsync(body, CancellationToken.None));
        }
        return new ValueTask(http.Response.WriteAsJsonAsync(problem, options: null, contentType: "application/problem+json", CancellationToken.None));
    }

    /// <summary>For errors the framework raises without a sentence of its own.</summary>
    private static string DefaultDetail(int status) => status switch
    {
        StatusCodes.Status404NotFound => "No endpoint answers this path; the API reference lists the endpoints (Swagger UI at /swagger).",
        StatusCodes.Status405MethodNotAllowed => "This path does not accept this HTTP method; the API reference lists the methods of each endpoint.",
        StatusCodes.Status400BadRequest => "The request could not be read: a parameter is missing or malformed.",
        >= 500 => "The service failed to handle this request; it has been logged. Retry later, and report it if it persists.",
        _ => ReasonPhrases.GetReasonPhrase(status),
    };
}
