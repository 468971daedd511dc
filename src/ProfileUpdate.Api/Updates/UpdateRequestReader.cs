using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http.Features;
using ProfileUpdate.Api.Http;

namespace ProfileUpdate.Api.Updates;

/// <summary>Reads and checks the parameters of one update request.</summary>
internal static class UpdateRequestReader
{
    /// <summary>The command to queue, or the problem that refuses the request.</summary>
    public static async ValueTask<(UpdateCommand? Command, ProblemHttpResult? Problem)> ReadAsync(HttpContext context, string client, LimitsOptions limits)
    {
        var request = context.Request;

        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(rawTarget)) rawTarget = request.Path.ToUriComponent() + request.QueryString;
        if (rawTarget.Length > limits.MaxGetBytes)
            return (null, Problems.Create(StatusCodes.Status414UriTooLong,
                $"The request target is {rawTarget.Length} bytes; the limit is {limits.MaxGetBytes} bytes. " +
                "Send fewer or shorter attributes, or POST them as an application/x-www-form-urlencoded body."));

        var query = new List<UrlParameter>();
        if (UrlEncodedParser.Parse(request.QueryString.Value ?? string.Empty, query, "query string") is { } queryError)
            return (null, Problems.BadRequest(queryError));

        var body = new List<UrlParameter>(0);
        var isPost = HttpMethods.IsPost(request.Method);
        if (isPost)
        {
            var hasBody = HasBody(request);
            if (request.ContentType is { } contentType && !IsForm(contentType))
                return (null, Problems.Create(StatusCodes.Status415UnsupportedMediaType,
                    $"Content-Type '{UrlEncodedParser.Sanitize(contentType)}' is not accepted; send the parameters as application/x-www-form-urlencoded (UTF-8)."));
            if (hasBody && request.ContentType is null)
                return (null, Problems.Create(StatusCodes.Status415UnsupportedMediaType,
                    "A request body needs Content-Type: application/x-www-form-urlencoded."));
            if (hasBody)
            {
                var bytes = await RequestBody.ReadAtMostAsync(request, limits.MaxPostBytes, context.RequestAborted);
                if (bytes is null)
                    return (null, Problems.Create(StatusCodes.Status413PayloadTooLarge,
                        $"The request body is larger than {limits.MaxPostBytes} bytes; split the attributes over several requests."));
                if (UrlEncodedParser.Parse(bytes, body, "body") is { } bodyError) return (null, Problems.BadRequest(bodyError));
            }
        }

        var parsed = UpdateRequestParser.Parse(query, body, limits);
        if (!parsed.Succeeded)
        {
            // A GET's body is never read (HTTP gives it no meaning); when one came, a refusal for a missing id or attribute
            // says so. Looked at only on this path: a GET that succeeds (the hot path) pays no header lookup for it.
            var error = parsed.Error;
            if (!isPost && HasBody(request)) error = UpdateRequestParser.Parse(query, body, limits, unreadBody: true).Error ?? error;
            return (null, Problems.BadRequest(error));
        }
        return (new UpdateCommand(client, parsed.Value.Identity, parsed.Value.Attributes, parsed.Value.Removals), null);
    }

    private static bool HasBody(HttpRequest request) =>
        request.ContentLength > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);

    private static bool IsForm(string contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var parsed) &&
        string.Equals(parsed.MediaType, "application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) &&
        (parsed.CharSet is null || string.Equals(parsed.CharSet.Trim('"'), "utf-8", StringComparison.OrdinalIgnoreCase));
}
