using Microsoft.AspNetCore.Diagnostics;

namespace ProfileUpdate.Api.Http;

/// <summary>The endpoint a request was routed to, also after the exception handler has reset the request.</summary>
public static class RequestEndpoint
{
    /// <summary>
    /// The exception handler clears the routed endpoint before its handlers run (so a re-executed request routes again);
    /// the endpoint the failed request had is kept on its feature, and the error format and the logs still need it.
    /// </summary>
    public static Endpoint? Of(HttpContext context) =>
        context.GetEndpoint() ?? context.Features.Get<IExceptionHandlerFeature>()?.Endpoint;

    /// <summary>The route template for logs: never the concrete path, which can hold a thirdPartyId.</summary>
    public static string Route(HttpContext context) => (Of(context) as RouteEndpoint)?.RoutePattern.RawText ?? "(unmatched)";
}
