using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Http;

namespace ProfileUpdate.Api.Updates;

/// <summary>Single Profile Update API: <c>GET|POST /m2/{client}/profile/update</c> (spec §1).</summary>
public static class UpdateEndpoints
{
    public const string SuccessBody = "trueRequest successfully submitted";
    public const string PlainText = "text/plain; charset=utf-8";
    public const string OutcomeHeader = "X-Profile-Update";

    public static IEndpointRouteBuilder MapProfileUpdate(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/m2/{client}/profile").WithTags("Single profile update");

        group.MapGet("/update", HandleAsync)
            .WithName("UpdateProfileGet")
            .WithSummary("Update one visitor's profile attributes (query string)")
            .WithDescription("Sets every profile.<name>=<value> parameter on the profile named by mboxPC or mbox3rdPartyId. " +
                "Answers 200 only once the update is durably stored and readable. Request target at most 8,192 bytes.");
        group.MapPost("/update", HandleAsync)
            .WithName("UpdateProfilePost")
            .WithSummary("Update one visitor's profile attributes (form body)")
            .WithDescription("As the GET form, with parameters in the query string and/or an application/x-www-form-urlencoded " +
                "body of at most 61,440 bytes.");

        return app;
    }

    internal static async Task<Results<ContentHttpResult, ProblemHttpResult>> HandleAsync(
        HttpContext context,
        string client,
        ClientDirectory clients,
        UpdateQueue queue,
        IOptions<ProfileUpdateOptions> options)
    {
        if (clients.Check(client) is { } refusal) return Problems.Create(refusal.Status, refusal.Message);
        var limits = options.Value.Limits;
        var request = context.Request;

        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(rawTarget)) rawTarget = request.Path.ToUriComponent() + request.QueryString;
        if (rawTarget.Length > limits.MaxGetBytes)
            return Problems.Create(StatusCodes.Status414UriTooLong,
                $"The request target is {rawTarget.Length} bytes; the limit is {limits.MaxGetBytes} bytes. " +
                "Send fewer or shorter attributes, or POST them as an application/x-www-form-urlencoded body.");

        var query = new List<UrlParameter>();
        if (UrlEncodedParser.Parse(request.QueryString.Value ?? string.Empty, query, "query string") is { } queryError)
            return Problems.BadRequest(queryError);

        var body = new List<UrlParameter>();
        if (HttpMethods.IsPost(request.Method))
        {
            var hasBody = request.ContentLength > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);
            if (request.ContentType is { } contentType && !IsForm(contentType))
                return Problems.Create(StatusCodes.Status415UnsupportedMediaType,
                    $"Content-Type '{UrlEncodedParser.Sanitize(contentType)}' is not accepted; send the parameters as application/x-www-form-urlencoded.");
            if (hasBody && request.ContentType is null)
                return Problems.Create(StatusCodes.Status415UnsupportedMediaType,
                    "A request body needs Content-Type: application/x-www-form-urlencoded.");
            if (hasBody)
            {
                var bytes = await RequestBody.ReadAtMostAsync(request, limits.MaxPostBytes, context.RequestAborted);
                if (bytes is null)
                    return Problems.Create(StatusCodes.Status413PayloadTooLarge,
                        $"The request body is larger than {limits.MaxPostBytes} bytes; split the attributes over several requests.");
                if (UrlEncodedParser.Parse(bytes, body, "body") is { } bodyError) return Problems.BadRequest(bodyError);
            }
        }

        var parsed = UpdateRequestParser.Parse(query, body, limits);
        if (parsed.Error is { } error) return Problems.BadRequest(error);

        var command = new UpdateCommand(client, parsed.Request!.Identity, parsed.Request.Attributes);
        var applier = options.Value.Applier;
        if (!queue.TryEnqueue(command))
            return Problems.Unavailable(context, applier.RetryAfterSeconds,
                "The service is at capacity or shutting down and did not accept the update; retry after the Retry-After interval.");

        UpdateOutcome outcome;
        try
        {
            outcome = await command.Completion.WaitAsync(applier.RequestTimeout, context.RequestAborted);
        }
        catch (TimeoutException)
        {
            return Problems.Unavailable(context, applier.RetryAfterSeconds,
                "The profile store did not confirm the update in time; it is not acknowledged. Retry after the Retry-After interval.");
        }

        switch (outcome.Status)
        {
            case UpdateStatus.Applied:
                context.Response.Headers[OutcomeHeader] = "applied";
                return TypedResults.Text(SuccessBody, PlainText);
            case UpdateStatus.ProfileNotFound:
                // Adobe answers 200 for an unknown visitor too; the header tells the truth without breaking old clients.
                context.Response.Headers[OutcomeHeader] = "profile-not-found";
                return TypedResults.Text(SuccessBody, PlainText);
            default:
                return Problems.Unavailable(context, Math.Max(1, outcome.RetryAfterSeconds),
                    "The profile store is unavailable; the update was not applied. Retry after the Retry-After interval.");
        }
    }

    private static bool IsForm(string contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var parsed) &&
        string.Equals(parsed.MediaType, "application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) &&
        (parsed.CharSet is null || string.Equals(parsed.CharSet.Trim('"'), "utf-8", StringComparison.OrdinalIgnoreCase));
}
