using System.Globalization;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Http;
using ProfileUpdate.Api.Operations;
using ProfileUpdate.Api.Quota;
using ProfileUpdate.Api.Security;

namespace ProfileUpdate.Api.Updates;

/// <summary>Single Profile Update API: <c>GET|POST /m2/{client}/profile/update</c> (spec §1).</summary>
public static class UpdateEndpoints
{
    public const string SuccessBody = "trueRequest successfully submitted";
    public const string PlainText = "text/plain; charset=utf-8";
    public const string OutcomeHeader = "X-Profile-Update";

    // Immutable, so one instance serves every successful response.
    private static readonly ContentHttpResult Success = TypedResults.Text(SuccessBody, PlainText);

    public static IEndpointRouteBuilder MapProfileUpdate(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/m2/{client}/profile").WithTags("Single profile update").RequireClientAccess();

        group.MapGet("/update", HandleAsync)
            .WithName("UpdateProfileGet")
            .WithSummary("Update one visitor's profile attributes (query string)")
            .WithDescription("Sets every profile.{name}={value} parameter on the profile named by mboxPC or mbox3rdPartyId. " +
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
        QuotaStore quota,
        IOptions<ProfileUpdateOptions> options)
    {
        if (clients.Check(client) is { } refusal) return Problems.Create(refusal.Status, refusal.Message);
        var limit = clients.QuotaLimit(client);
        context.Response.Headers["RateLimit-Policy"] = clients.RateLimitPolicy(client);

        var (result, outcome) = await ProcessAsync(context, client, limit, queue, options.Value);

        var state = outcome?.Quota;
        if (outcome is null && options.Value.Quota.Enabled && result.Result is ProblemHttpResult { StatusCode: >= 400 and < 499 })
        {
            // Refused before the applier: nothing consumed, but the caller still learns where it stands.
            try
            {
                var peek = await quota.ConsumeAsync(client, limit, 0);
                state = new QuotaState(limit, Math.Max(0, peek.Remaining), peek.ResetSeconds);
            }
            catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException)
            {
                // The 4xx stands on its own; the quota headers are left off while the store is unreachable.
            }
        }
        if (state is { } s)
            context.Response.Headers["RateLimit"] = $"\"updates\";r={s.Remaining};t={s.ResetSeconds}";
        return result;
    }

    private static async Task<(Results<ContentHttpResult, ProblemHttpResult> Result, UpdateOutcome? Outcome)> ProcessAsync(
        HttpContext context, string client, long limit, UpdateQueue queue, ProfileUpdateOptions options)
    {
        var limits = options.Limits;
        var request = context.Request;

        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(rawTarget)) rawTarget = request.Path.ToUriComponent() + request.QueryString;
        if (rawTarget.Length > limits.MaxGetBytes)
            return (Problems.Create(StatusCodes.Status414UriTooLong,
                $"The request target is {rawTarget.Length} bytes; the limit is {limits.MaxGetBytes} bytes. " +
                "Send fewer or shorter attributes, or POST them as an application/x-www-form-urlencoded body."), null);

        var query = new List<UrlParameter>();
        if (UrlEncodedParser.Parse(request.QueryString.Value ?? string.Empty, query, "query string") is { } queryError)
            return (Problems.BadRequest(queryError), null);

        var body = new List<UrlParameter>();
        if (HttpMethods.IsPost(request.Method))
        {
            var hasBody = request.ContentLength > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);
            if (request.ContentType is { } contentType && !IsForm(contentType))
                return (Problems.Create(StatusCodes.Status415UnsupportedMediaType,
                    $"Content-Type '{UrlEncodedParser.Sanitize(contentType)}' is not accepted; send the parameters as application/x-www-form-urlencoded (UTF-8)."), null);
            if (hasBody && request.ContentType is null)
                return (Problems.Create(StatusCodes.Status415UnsupportedMediaType,
                    "A request body needs Content-Type: application/x-www-form-urlencoded."), null);
            if (hasBody)
            {
                var bytes = await RequestBody.ReadAtMostAsync(request, limits.MaxPostBytes, context.RequestAborted);
                if (bytes is null)
                    return (Problems.Create(StatusCodes.Status413PayloadTooLarge,
                        $"The request body is larger than {limits.MaxPostBytes} bytes; split the attributes over several requests."), null);
                if (UrlEncodedParser.Parse(bytes, body, "body") is { } bodyError) return (Problems.BadRequest(bodyError), null);
            }
        }

        var parsed = UpdateRequestParser.Parse(query, body, limits);
        if (parsed.Error is { } error) return (Problems.BadRequest(error), null);

        var command = new UpdateCommand(client, parsed.Request!.Identity, parsed.Request.Attributes);
        var applier = options.Applier;
        if (!queue.TryEnqueue(command))
        {
            context.RequestServices.GetRequiredService<ServiceMetrics>().Rejected(client, "queue_full");
            return (Problems.Unavailable(context, applier.RetryAfterSeconds,
                "The service is at capacity or shutting down and did not accept the update; retry after the Retry-After interval."), null);
        }

        UpdateOutcome outcome;
        try
        {
            outcome = await command.Completion.WaitAsync(applier.RequestTimeout, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client hung up while waiting. The update stays queued and is applied (writes are idempotent), but
            // nobody is left to acknowledge: 499 in the request log, not a 500.
            return (Problems.Create(StatusCodes.Status499ClientClosedRequest,
                "The client closed the connection before the update was confirmed."), null);
        }
        catch (TimeoutException)
        {
            context.RequestServices.GetRequiredService<ServiceMetrics>().Rejected(client, "timeout");
            return (Problems.Unavailable(context, applier.RetryAfterSeconds,
                "The profile store did not confirm the update in time; it is not acknowledged. Retry after the Retry-After interval."), null);
        }

        switch (outcome.Status)
        {
            case UpdateStatus.Applied:
                context.Response.Headers[OutcomeHeader] = "applied";
                return (Success, outcome);
            case UpdateStatus.ProfileNotFound:
                // Adobe answers 200 for an unknown visitor too; the header tells the truth without breaking old clients.
                context.Response.Headers[OutcomeHeader] = "profile-not-found";
                return (Success, outcome);
            case UpdateStatus.QuotaExceeded:
                context.Response.Headers.RetryAfter = outcome.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return (Problems.Create(StatusCodes.Status429TooManyRequests,
                    $"Client {client} has used its quota of {limit} profile updates in a rolling 24 hours; " +
                    $"the next update is admitted in {outcome.RetryAfterSeconds} seconds (Retry-After)."), outcome);
            default:
                return (Problems.Unavailable(context, (int)Math.Max(1, outcome.RetryAfterSeconds),
                    "The profile store is unavailable; the update was not applied. Retry after the Retry-After interval."), outcome);
        }
    }

    private static bool IsForm(string contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var parsed) &&
        string.Equals(parsed.MediaType, "application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) &&
        (parsed.CharSet is null || string.Equals(parsed.CharSet.Trim('"'), "utf-8", StringComparison.OrdinalIgnoreCase));
}
