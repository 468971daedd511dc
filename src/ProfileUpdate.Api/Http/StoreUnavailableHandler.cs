using System.Globalization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using ProfileUpdate.Api.Store;

namespace ProfileUpdate.Api.Http;

/// <summary>
/// The one place a store that is down, overloaded or too slow becomes an answer: 503 with Retry-After, in the
/// endpoint's error format. Handlers let the store's exceptions propagate; nothing was acknowledged, and every write
/// the service makes is idempotent, so a retry after the interval is always safe.
/// </summary>
internal sealed partial class StoreUnavailableHandler(
    IProblemDetailsService problems,
    IOptions<ProfileUpdateOptions> options,
    ILogger<StoreUnavailableHandler> logger) : IExceptionHandler
{
    private readonly string _retryAfter = options.Value.Store.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);

    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (!StoreFailures.IsUnavailable(exception)) return false;
        // The exception's type only: the store client's messages can name keys, which contain visitor ids.
        LogUnavailable(logger, context.Request.Method, RequestEndpoint.Route(context),
            exception.GetType().Name, context.TraceIdentifier);
        context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        context.Response.Headers.RetryAfter = _retryAfter;
        var detail = HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)
            ? "The profile store is unavailable; retry after the Retry-After interval."
            : "The profile store is unavailable; the request was not applied, or only in part (every write is idempotent): " +
              "send it again after the Retry-After interval.";
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = new ProblemDetails { Status = StatusCodes.Status503ServiceUnavailable, Detail = detail },
        });
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Profile store failed during {RequestMethod} {RoutePattern} ({Error}, request {RequestId}); answered 503")]
    private static partial void LogUnavailable(ILogger logger, string requestMethod, string routePattern, string error, string requestId);
}
