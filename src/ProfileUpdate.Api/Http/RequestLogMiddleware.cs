namespace ProfileUpdate.Api.Http;

/// <summary>
/// The access log: one line per request naming the route template, never the concrete path or query (personal data).
/// </summary>
/// <remarks>
/// A line per successful request would be the most expensive thing the service does at thousands of updates a second
/// (measured: JSON formatting and stdout writes cost more than parsing and the Redis call together), and /metrics
/// already counts them. So 2xx/3xx and requests the client abandoned (499) log at Debug, refusals (4xx, 503) at
/// Information, server faults at Error. Written here rather than with Serilog.AspNetCore's request logging, which opens
/// an async-local diagnostic context on every request whether or not its line is written.
/// </remarks>
public sealed partial class RequestLogMiddleware(RequestDelegate next, ILogger<RequestLogMiddleware> logger, TimeProvider time)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var started = time.GetTimestamp();
        try
        {
            await next(context);
        }
        catch (Exception ex)
        {
            Write(context, StatusCodes.Status500InternalServerError, started, ex);
            throw;
        }
        Write(context, context.Response.StatusCode, started, null);
    }

    internal static LogLevel LevelOf(int status, bool failed) =>
        failed || status >= 500 && status != StatusCodes.Status503ServiceUnavailable ? LogLevel.Error
        : status >= 400 && status != StatusCodes.Status499ClientClosedRequest ? LogLevel.Information
        : LogLevel.Debug;

    private void Write(HttpContext context, int status, long started, Exception? exception)
    {
        var level = LevelOf(status, exception is not null);
        if (!logger.IsEnabled(level)) return;
        var route = RequestEndpoint.Route(context);
        Log(logger, level, exception, context.Request.Method, route, status, time.GetElapsedTime(started).TotalMilliseconds, context.TraceIdentifier);
    }

    [LoggerMessage(Message = "HTTP {RequestMethod} {RoutePattern} responded {StatusCode} in {Elapsed:0.000} ms ({RequestId})")]
    private static partial void Log(ILogger logger, LogLevel level, Exception? exception, string requestMethod, string routePattern,
        int statusCode, double elapsed, string requestId);
}
