using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using ProfileUpdate.Api.Clients;
using ProfileUpdate.Api.Http;
using ProfileUpdate.Api.Quota;

namespace ProfileUpdate.Api.Updates;

/// <summary>Single Profile Update API: <c>GET|POST /m2/{client}/profile/update</c>.</summary>
public static class UpdateEndpoints
{
    public const string SuccessBody = "trueRequest successfully submitted";
    public const string PlainText = "text/plain; charset=utf-8";
    public const string OutcomeHeader = "X-Profile-Update";

    public static IEndpointRouteBuilder MapProfileUpdate(this IEndpointRouteBuilder app)
    {
        var provider = app.ServiceProvider;
        var options = provider.GetRequiredService<IOptions<ProfileUpdateOptions>>();
        var limits = options.Value.Limits;
        // Every answer, errors included, is written by the handler or the client filter (problem+json): see WritesOwnErrors.
        var group = app.MapGroup("/m2/{client}/profile").WithTags("Single profile update").ForClient(ClientSource.Route)
            .WithMetadata(WritesOwnErrors.Instance);
        // The singletons the handler needs, resolved once here rather than bound per request: a service parameter makes
        // every request open a DI scope, look each service up in it and dispose it at the end (EndpointServicesBenchmarks:
        // the per-request difference, on the hottest endpoint; the others bind their services as parameters).
        var services = new UpdateServices(
            provider.GetRequiredService<UpdateQueue>(),
            provider.GetRequiredService<QuotaLimits>(),
            provider.GetRequiredService<UpdateMetrics>(),
            provider.GetRequiredService<LatestQuota>(),
            provider.GetRequiredService<TimeProvider>(),
            options);
        // The client bound from the route (ResolvedClient.TryParse) rather than through BindAsync: one async frame fewer.
        var update = ([FromRoute(Name = "client")] ResolvedClient client, HttpContext context) => UpdateAsync(client, context, services);

        group.MapGet("/update", update)
            .WithName("UpdateProfileGet")
            .WithSummary("Update one visitor's profile attributes (query string)")
            .WithDescription("Sets every profile.{name}={value} parameter on the profile named by mboxPC or mbox3rdPartyId. " +
                $"Answers 200 only once the update is durably stored and readable. Request target at most {limits.MaxGetBytes:N0} bytes.");
        group.MapPost("/update", update)
            .WithName("UpdateProfilePost")
            .WithSummary("Update one visitor's profile attributes (form body)")
            .WithDescription("As the GET form, with parameters in the query string and/or an application/x-www-form-urlencoded " +
                $"body of at most {limits.MaxPostBytes:N0} bytes.");

        return app;
    }

    /// <summary>What the update endpoint needs besides the request: singletons, resolved once when it is mapped.</summary>
    public readonly record struct UpdateServices(
        UpdateQueue Queue,
        QuotaLimits Limits,
        UpdateMetrics Metrics,
        LatestQuota LatestQuota,
        TimeProvider Time,
        IOptions<ProfileUpdateOptions> Options);

    /// <summary>Validates, parses, queues, waits for the applier's outcome, answers.</summary>
    internal static async Task<Results<UpdateAccepted, ProblemHttpResult>> UpdateAsync(
        ResolvedClient client, HttpContext context, UpdateServices services)
    {
        var code = client.Code;
        var options = services.Options.Value;
        var limit = services.Limits.Limit(code);
        context.Response.Headers["RateLimit-Policy"] = services.Limits.PolicyHeader(code);

        // Completes synchronously for a GET (nothing to read): the hot path keeps a single async frame.
        var (command, problem) = await UpdateRequestReader.ReadAsync(context, code, options.Limits);
        if (problem is not null) return await RefusedAsync(context, services, code, limit, problem);

        if (!services.Queue.TryEnqueue(command!))
        {
            services.Metrics.Rejected(code, "queue_full");
            return Problems.Unavailable(context, options.Store.RetryAfterSeconds,
                "The service is at capacity or shutting down and did not accept the update; retry after the Retry-After interval.");
        }

        UpdateOutcome outcome;
        try
        {
            outcome = await command!.Completion.WaitAsync(options.Applier.RequestTimeout, services.Time, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client hung up while waiting. The update stays queued and is applied (writes are idempotent), but
            // nobody is left to acknowledge: 499 in the request log, not a 500 (and no quota look: nobody reads it).
            return Problems.Create(StatusCodes.Status499ClientClosedRequest, "The client closed the connection before the update was confirmed.");
        }
        catch (TimeoutException)
        {
            // The applier may have completed the command just as the timer fired: its outcome is known, so it is the
            // answer. Otherwise the command is given up on, atomically against the applier completing it, so this 503
            // is the request's one count in the outcome counter and the applier's later outcome is counted apart.
            if (!command!.TryAbandon()) outcome = await command.Completion;
            else
            {
                services.Metrics.Rejected(code, "timeout");
                return Problems.Unavailable(context, options.Store.RetryAfterSeconds,
                    "The profile store did not confirm the update in time; it is not acknowledged. Retry after the Retry-After interval.");
            }
        }

        if (outcome.Quota is { } state) SetRateLimit(context, state);
        switch (outcome.Status)
        {
            case UpdateStatus.Applied:
                context.Response.Headers[OutcomeHeader] = "applied";
                return UpdateAccepted.Instance;
            case UpdateStatus.ProfileNotFound:
                // Adobe answers 200 for an unknown visitor too; the header tells the truth without breaking old clients.
                context.Response.Headers[OutcomeHeader] = "profile-not-found";
                return UpdateAccepted.Instance;
            case UpdateStatus.QuotaExceeded:
                context.Response.Headers.RetryAfter = outcome.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return Problems.Create(StatusCodes.Status429TooManyRequests,
                    $"Client {code} has used its quota of {limit} profile updates in a rolling 24 hours; " +
                    $"the next update is admitted in {outcome.RetryAfterSeconds} seconds (Retry-After).");
            default:
                return Problems.Unavailable(context, (int)Math.Max(1, outcome.RetryAfterSeconds),
                    // Not "not applied": a store that timed out may still run the script it was sent (after a pause, say).
                    "The profile store is unavailable or did not confirm the update, so it is not acknowledged (it may or may " +
                    "not have been stored). Retrying is safe: an update sets the same values again. Retry after the Retry-After interval.");
        }
    }

    /// <summary>
    /// A request refused as invalid (4xx): nothing was consumed, but the caller still learns where its quota stands —
    /// from the latest decision this instance saw for the client when it is recent, else from a short look at the store.
    /// </summary>
    private static async Task<ProblemHttpResult> RefusedAsync(HttpContext context, UpdateServices services, string client, long limit,
        ProblemHttpResult problem)
    {
        if (!services.Limits.Enabled) return problem;
        // Left off while the store cannot say (or not within Quota:PeekTimeout): the 4xx stands on its own.
        if (await services.LatestQuota.ForRefusalAsync(client, limit) is { } state) SetRateLimit(context, state);
        return problem;
    }

    private static void SetRateLimit(HttpContext context, QuotaState state) =>
        context.Response.Headers["RateLimit"] = $"\"updates\";r={state.Remaining};t={state.ResetSeconds}";
}
