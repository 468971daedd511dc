using Microsoft.AspNetCore.WebUtilities;

namespace ProfileUpdate.Api.Http;

/// <summary>RFC 9457 problem responses with the extra <c>message</c> field Adobe's JSON APIs use (docs/api.md §1).</summary>
public static class Problems
{
    public static ProblemHttpResult Create(int status, string detail) =>
        TypedResults.Problem(
            detail: detail,
            statusCode: status,
            title: ReasonPhrases.GetReasonPhrase(status),
            extensions: new Dictionary<string, object?> { ["message"] = detail });

    public static ProblemHttpResult BadRequest(string detail) => Create(StatusCodes.Status400BadRequest, detail);

    /// <summary>503 with Retry-After: the caller may retry; nothing was acknowledged.</summary>
    public static ProblemHttpResult Unavailable(HttpContext context, int retryAfterSeconds, string detail)
    {
        context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Create(StatusCodes.Status503ServiceUnavailable, detail);
    }
}
