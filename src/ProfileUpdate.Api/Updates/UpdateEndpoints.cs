using System.Buffers;
using System.Globalization;
using System.Net.Http.Headers;
using System.Reflection;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http.Metadata;
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

    public static IEndpointRouteBuilder MapProfileUpdate(this IEndpointRouteBuilder app)
    {
        // One handler for the life of the app: its dependencies are singletons, and binding them as handler parameters
        // would open a DI scope and resolve them on every request.
        var handler = ActivatorUtilities.CreateInstance<UpdateHandler>(app.ServiceProvider);
        var group = app.MapGroup("/m2/{client}/profile").WithTags("Single profile update").RequireClientAccess();

        group.MapGet("/update", handler.HandleAsync)
            .WithName("UpdateProfileGet")
            .WithSummary("Update one visitor's profile attributes (query string)")
            .WithDescription("Sets every profile.{name}={value} parameter on the profile named by mboxPC or mbox3rdPartyId. " +
                "Answers 200 only once the update is durably stored and readable. Request target at most 8,192 bytes.");
        group.MapPost("/update", handler.HandleAsync)
            .WithName("UpdateProfilePost")
            .WithSummary("Update one visitor's profile attributes (form body)")
            .WithDescription("As the GET form, with parameters in the query string and/or an application/x-www-form-urlencoded " +
                "body of at most 61,440 bytes.");

        return app;
    }
}

/// <summary>
/// Adobe's 200 for an update: its fixed text, from bytes encoded once. Not <c>TypedResults.Text</c>, which parses its
/// content type and asks the logger factory for a logger on every call (Serilog's factory builds a new logger each time:
/// measured about 1 KB of garbage per update).
/// </summary>
public sealed class UpdateAccepted : IResult, IEndpointMetadataProvider
{
    public static readonly UpdateAccepted Instance = new();
    private static readonly byte[] Body = Encoding.UTF8.GetBytes(UpdateEndpoints.SuccessBody);

    private UpdateAccepted() { }

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = UpdateEndpoints.PlainText;
        response.ContentLength = Body.Length;
        // Copied into Kestrel's output buffer; Kestrel sends it when the request completes.
        response.BodyWriter.Write(Body);
        return Task.CompletedTask;
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(string), ["text/plain"]));
}

/// <summary>The update endpoint's work: validate, parse, queue, wait for the applier's outcome, answer.</summary>
internal sealed class UpdateHandler(
    ClientDirectory clients,
    UpdateQueue queue,
    QuotaStore quota,
    ServiceMetrics metrics,
    IOptions<ProfileUpdateOptions> options)
{
    private readonly ProfileUpdateOptions _options = options.Value;

    public async Task<Results<UpdateAccepted, ProblemHttpResult>> HandleAsync(HttpContext context, string client)
    {
        if (clients.Check(client) is { } refusal) return Problems.Create(refusal.Status, refusal.Message);
        var limit = clients.QuotaLimit(client);
        context.Response.Headers["RateLimit-Policy"] = clients.RateLimitPolicy(client);

        // Completes synchronously for a GET (nothing to read): the hot path keeps a single async frame.
        var (command, problem) = await ParseAsync(context, client);
        if (problem is not null) return await RefusedAsync(context, client, limit, problem);

        var applier = _options.Applier;
        if (!queue.TryEnqueue(command!))
        {
            metrics.Rejected(client, "queue_full");
            return Problems.Unavailable(context, applier.RetryAfterSeconds,
                "The service is at capacity or shutting down and did not accept the update; retry after the Retry-After interval.");
        }

        UpdateOutcome outcome;
        try
        {
            outcome = await command!.Completion.WaitAsync(applier.RequestTimeout, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client hung up while waiting. The update stays queued and is applied (writes are idempotent), but
            // nobody is left to acknowledge: 499 in the request log, not a 500 (and no quota look: nobody reads it).
            return Problems.Create(StatusCodes.Status499ClientClosedRequest, "The client closed the connection before the update was confirmed.");
        }
        catch (TimeoutException)
        {
            metrics.Rejected(client, "timeout");
            return Problems.Unavailable(context, applier.RetryAfterSeconds,
                "The profile store did not confirm the update in time; it is not acknowledged. Retry after the Retry-After interval.");
        }

        if (outcome.Quota is { } state) SetRateLimit(context, state);
        switch (outcome.Status)
        {
            case UpdateStatus.Applied:
                context.Response.Headers[UpdateEndpoints.OutcomeHeader] = "applied";
                return UpdateAccepted.Instance;
            case UpdateStatus.ProfileNotFound:
                // Adobe answers 200 for an unknown visitor too; the header tells the truth without breaking old clients.
                context.Response.Headers[UpdateEndpoints.OutcomeHeader] = "profile-not-found";
                return UpdateAccepted.Instance;
            case UpdateStatus.QuotaExceeded:
                context.Response.Headers.RetryAfter = outcome.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return Problems.Create(StatusCodes.Status429TooManyRequests,
                    $"Client {client} has used its quota of {limit} profile updates in a rolling 24 hours; " +
                    $"the next update is admitted in {outcome.RetryAfterSeconds} seconds (Retry-After).");
            default:
                return Problems.Unavailable(context, (int)Math.Max(1, outcome.RetryAfterSeconds),
                    "The profile store is unavailable; the update was not applied. Retry after the Retry-After interval.");
        }
    }

    /// <summary>A request refused as invalid (4xx): nothing was consumed, but the caller still learns where its quota stands.</summary>
    private async Task<ProblemHttpResult> RefusedAsync(HttpContext context, string client, long limit, ProblemHttpResult problem)
    {
        if (!_options.Quota.Enabled) return problem;
        try
        {
            var peek = await quota.ConsumeAsync(client, limit, 0);
            SetRateLimit(context, new QuotaState(limit, Math.Max(0, peek.Remaining), peek.ResetSeconds));
        }
        catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException)
        {
            // The 4xx stands on its own; the quota headers are left off while the store is unreachable.
        }
        return problem;
    }

    private static void SetRateLimit(HttpContext context, QuotaState state) =>
        context.Response.Headers["RateLimit"] = $"\"updates\";r={state.Remaining};t={state.ResetSeconds}";

    /// <summary>The command to queue, or the problem that refuses the request.</summary>
    private async ValueTask<(UpdateCommand? Command, ProblemHttpResult? Problem)> ParseAsync(HttpContext context, string client)
    {
        var limits = _options.Limits;
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
        if (HttpMethods.IsPost(request.Method))
        {
            var hasBody = request.ContentLength > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);
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
        if (parsed.Error is { } error) return (null, Problems.BadRequest(error));
        return (new UpdateCommand(client, parsed.Request!.Identity, parsed.Request.Attributes), null);
    }

    private static bool IsForm(string contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var parsed) &&
        string.Equals(parsed.MediaType, "application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) &&
        (parsed.CharSet is null || string.Equals(parsed.CharSet.Trim('"'), "utf-8", StringComparison.OrdinalIgnoreCase));
}
