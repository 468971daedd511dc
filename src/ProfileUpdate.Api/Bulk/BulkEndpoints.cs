using System.Globalization;
using System.Security.Cryptography;
using System.Xml.Linq;
using ProfileUpdate.Api.Clients;
using ProfileUpdate.Api.Http;
using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Api.Bulk;

/// <summary>Bulk Profile Update API v1/v2 and batch status. Answers are XML, as Adobe's, errors included.</summary>
public static partial class BulkEndpoints
{
    private const string Xml = "application/xml; charset=utf-8";

    /// <summary>A full spool drains as batches complete: a minute is the order of one 500,000-row batch.</summary>
    private const int SpoolFullRetryAfterSeconds = 60;

    /// <summary>A spool that cannot be written (disk full, directory gone) needs an operator; a minute is a fair first wait.</summary>
    private const int SpoolBrokenRetryAfterSeconds = 60;

    /// <summary>The longest <c>Prefer: wait</c> honoured: an HTTP request held longer outlives most proxies' timeouts.</summary>
    private const int MaxWaitSeconds = 600;

    public static IEndpointRouteBuilder MapBulk(this IEndpointRouteBuilder app)
    {
        var limits = app.ServiceProvider.GetRequiredService<IOptions<ProfileUpdateOptions>>().Value.Limits;
        var group = app.MapGroup("/m2/{client}").WithTags("Bulk profile update").ForClient(ClientSource.Route).WithXmlErrors();
        var fileLimits = $"The file must be smaller than {limits.MaxBatchBytes:N0} bytes and hold at most {limits.MaxBatchRows:N0} rows.";
        group.MapPost("/profile/batchUpdate", SubmitV1Async)
            .WithName("BatchUpdateV1")
            .WithSummary("Bulk update (v1): apply a batch file to existing profiles only")
            .WithDescription(fileLimits);
        group.MapPost("/v2/profile/batchUpdate", SubmitV2Async)
            .WithName("BatchUpdateV2")
            .WithSummary("Bulk update (v2): apply a batch file, creating missing profiles")
            .WithDescription(fileLimits);
        group.MapPost("/v2/profile/batchDelete", SubmitEraseAsync)
            .WithName("BatchDelete")
            .WithSummary("Bulk erase: delete the profile of every id in a file (batch=thirdPartyId or batch=pcId, one id per row)")
            .WithDescription(fileLimits);
        // One status resource under both paths, as Adobe's batch answers link either.
        foreach (var (path, version) in (ReadOnlySpan<(string, string)>)[("/profile/batchStatus", "V1"), ("/v2/profile/batchStatus", "V2")])
            group.MapGet(path, StatusAsync).WithName("BatchStatus" + version).WithSummary($"Status of a batch ({version.ToLowerInvariant()} path)");
        return app;
    }

    /// <summary>The services a bulk submission needs, bound as one parameter.</summary>
    public readonly record struct BulkServices(
        BatchQueue Queue,
        BatchRunner Runner,
        SpoolBudget Budget,
        BatchStatusRepository Statuses,
        IOptions<ProfileUpdateOptions> Options,
        TimeProvider Time,
        ILogger<BatchRunner> Logger);

    internal static Task<Results<ContentHttpResult, ProblemHttpResult>> SubmitV1Async(
        ResolvedClient client, HttpContext context, [AsParameters] BulkServices services) =>
        SubmitAsync(client.Code, context, services, BatchKind.UpdateExisting);

    internal static Task<Results<ContentHttpResult, ProblemHttpResult>> SubmitV2Async(
        ResolvedClient client, HttpContext context, [AsParameters] BulkServices services) =>
        SubmitAsync(client.Code, context, services, BatchKind.CreateMissing);

    internal static Task<Results<ContentHttpResult, ProblemHttpResult>> SubmitEraseAsync(
        ResolvedClient client, HttpContext context, [AsParameters] BulkServices services) =>
        SubmitAsync(client.Code, context, services, BatchKind.Erase);

    private static async Task<Results<ContentHttpResult, ProblemHttpResult>> SubmitAsync(
        string client, HttpContext context, BulkServices services, BatchKind kind)
    {
        var options = services.Options.Value;
        var limits = options.Limits;
        // Every refusal says that nothing happened, in the words of the endpoint: an erase deletes, the others apply.
        var nothing = kind == BatchKind.Erase ? " Nothing was deleted." : " Nothing was applied.";

        // Checked before anything is counted or read: a mistyped URL costs no submission.
        var (emptyValues, modeError) = ReadEmptyValues(context.Request);
        if (modeError is not null) return Problems.BadRequest(modeError + nothing);

        // A submission is counted before its body is read, so that concurrent submissions can never admit more than the
        // limit between them, and given back when it is refused (every answer but the acceptance, this 429 too): only
        // accepted batches use the limit, as only applied updates use the single-update quota. A refund can make a
        // submission racing it see one count too many for a moment: the error is on the strict side, never over the limit.
        var (submissions, secondsLeft, counter) = await services.Statuses.CountSubmissionAsync(client);
        if (submissions > options.Bulk.SubmissionsPerMinute)
        {
            await services.Statuses.RefundSubmissionAsync(counter);
            context.Response.Headers.RetryAfter = secondsLeft.ToString(CultureInfo.InvariantCulture);
            return Problems.Create(StatusCodes.Status429TooManyRequests,
                $"Client {client} may submit at most {options.Bulk.SubmissionsPerMinute} batches per minute; retry in {secondsLeft} seconds.");
        }

        var batchId = NewBatchId(client, services.Time);
        try
        {
            if (await ReceiveAsync(client, batchId, context, services, kind, emptyValues, nothing) is { } refused)
            {
                await services.Statuses.RefundSubmissionAsync(counter);
                return refused;
            }
        }
        catch
        {
            // Malformed framing, a client that hung up, a store failure: refused before acceptance all the same.
            await services.Statuses.RefundSubmissionAsync(counter);
            throw;
        }

        if (PreferredWait(context.Request) is { } wait)
        {
            // RFC 7240: the preference is honoured as far as it goes; the body says where to look either way.
            await services.Queue.WaitAsync(batchId, wait, context.RequestAborted);
            context.Response.Headers["Preference-Applied"] = $"wait={(int)wait.TotalSeconds}";
        }

        var statusUrl = StatusUrl(context.Request, client, batchId, v2: kind != BatchKind.UpdateExisting);
        return TypedResults.Text(new XElement("response",
            new XElement("success", "true"),
            new XElement("batchId", batchId),
            new XElement("batchStatus", statusUrl),
            new XElement("message", "Batch submitted for processing")).ToString(SaveOptions.DisableFormatting), Xml);
    }

    /// <summary>Reads, checks and spools one submission; null once it is accepted (recorded, kept and queued), else the refusal.</summary>
    private static async Task<ProblemHttpResult?> ReceiveAsync(
        string client, string batchId, HttpContext context, BulkServices services, BatchKind kind, EmptyValues emptyValues, string nothing)
    {
        var options = services.Options.Value;
        var limits = options.Limits;

        var (upload, bodyError) = BatchUpload.Of(context.Request, limits, nothing);
        if (upload is null) return bodyError!;

        // The file must be smaller than MaxBatchBytes (Adobe: "smaller than 50 MB"): MaxBatchBytes is the first size refused,
        // counted in the file's bytes by the spool below, whatever the framing. A multipart body may be larger than its file
        // by a bounded envelope (BatchUpload.MaxEnvelopeBytes), so the checks on the whole body stop only a body that cannot
        // hold a file under the limit: MaxBodyBytes. With Content-Length, Kestrel's own limit sits a little above, so it can
        // still drain a body just over the limit after the 413 and the client reads the answer instead of a reset connection.
        // A chunked body gets no Kestrel limit: Kestrel counts the chunk framing against it (a body under the limit sent in
        // small chunks was refused), so the spool's count (and for multipart, the upload's count of the whole body) is the
        // only one; after a 413 Kestrel drains what is left for 5 s at most (its RequestBodyDrainTimeout).
        RequestBody.AllowBodyOf(context, context.Request.ContentLength is null ? null : upload.MaxBodyBytes + 2);
        if (context.Request.ContentLength > upload.MaxBodyBytes)
            return upload.IsMultipart ? upload.EnvelopeTooLarge() : TooLarge(limits, nothing);

        var path = Path.Combine(options.Bulk.SpoolDirectory, BatchJob.FileName(batchId, kind, emptyValues));
        BatchSpool spool;
        SpoolLimit limit;
        try
        {
            var (file, fileError) = await upload.OpenFileAsync(context.RequestAborted);
            if (file is null) return fileError!;
            (spool, limit) = await BatchSpool.CreateAsync(file, limits.MaxBatchBytes - 1, limits.MaxBatchRows, context.RequestAborted,
                path + BatchJob.SpoolingSuffix,
                line => line.IsEmpty ? BatchFileParser.EmptyError(kind == BatchKind.Erase)
                    : kind == BatchKind.Erase ? BatchFileParser.ParseEraseHeader(line.Span).Error
                    : BatchFileParser.ParseHeader(line.Span, limits).Error, services.Budget);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return upload.BodyExceeded ? upload.EnvelopeTooLarge() : TooLarge(limits, nothing);
        }

        await using (spool)
        {
            switch (limit)
            {
                case SpoolLimit.TooManyBytes:
                    return TooLarge(limits, nothing);
                case SpoolLimit.TooManyRows:
                    return Problems.Create(StatusCodes.Status413PayloadTooLarge,
                        $"The batch has more than {limits.MaxBatchRows} rows; split it into several files." + nothing);
                case SpoolLimit.BadHeader:
                    return Problems.BadRequest(spool.HeaderError + nothing);
                case SpoolLimit.NotStored:
                    return NotStored();
                case SpoolLimit.NoRoom:
                    return Problems.Unavailable(context, SpoolFullRetryAfterSeconds,
                        $"The spool of batches waiting to be applied is full ({options.Bulk.MaxSpoolBytes} bytes); nothing was kept. " +
                        "Retry after the Retry-After interval, when batches ahead of this one are done.");
            }
            // Before anything is recorded: a second file part or an oversized envelope refuses the whole upload.
            if (await upload.FinishAsync(spool.Bytes, context.RequestAborted) is { } refused) return refused;

            // Recorded as queued, then the file moved to its accepted name, both before the answer: from the 200 on, the
            // batch is resumed after any crash; a file still under its spooling name at start-up is not a batch's.
            await services.Statuses.CreateAsync(client, batchId, spool.Rows, services.Runner.Owner, kind == BatchKind.Erase);
            if (!spool.Keep(path)) return NotStored();
            services.Queue.Enqueue(new BatchJob(client, batchId, kind, spool.Path, spool.Bytes, Resumed: false, emptyValues));
            LogAccepted(services.Logger, batchId, spool.Rows, spool.Bytes);
        }

        return null;

        // The spool file could not be written or moved: the server's failure, not the upload's.
        ProblemHttpResult NotStored()
        {
            LogNotStored(services.Logger, batchId, spool.StoreError?.GetType().Name, spool.StoreError?.Message, options.Bulk.SpoolDirectory);
            return Problems.Unavailable(context, SpoolBrokenRetryAfterSeconds,
                "The server could not store the upload: writing it to the batch spool failed on the server's side " +
                "(the upload itself was fine); nothing was kept. Retry after the Retry-After interval.");
        }
    }

    /// <summary>The batch URL's <c>emptyValues</c> (default ignore), or why it is refused.</summary>
    private static (EmptyValues Mode, string? Error) ReadEmptyValues(HttpRequest request)
    {
        if (!request.Query.TryGetValue(EmptyValuesParameter.Name, out var given)) return (EmptyValues.Ignore, null);
        if (given.Count > 1) return (EmptyValues.Ignore, EmptyValuesParameter.Repeated);
        return EmptyValuesParameter.Parse(given.ToString(), out var error, batch: true) is { } mode ? (mode, null) : (EmptyValues.Ignore, error);
    }

    /// <summary>How long a client asked to wait for completion (<c>Prefer: wait=N</c>, RFC 7240), capped; null when it did not ask.</summary>
    internal static TimeSpan? PreferredWait(HttpRequest request)
    {
        foreach (var value in request.Headers["Prefer"])
        {
            foreach (var preference in (value ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = preference.Split('=', 2, StringSplitOptions.TrimEntries);
                if (parts.Length != 2 || !parts[0].Equals("wait", StringComparison.OrdinalIgnoreCase)) continue;
                var digits = parts[1].Trim('"');
                if (digits.Length == 0 || !digits.All(char.IsAsciiDigit)) continue;
                // Any number of seconds over the cap is capped, however many digits it has (past int's range too).
                return TimeSpan.FromSeconds(digits.TrimStart('0').Length > 3 ? MaxWaitSeconds
                    : Math.Min(int.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture), MaxWaitSeconds));
            }
        }
        return null;
    }

    internal static async Task<Results<ContentHttpResult, ProblemHttpResult>> StatusAsync(
        ResolvedClient client, string? batchId, string? showDetails, BatchStatusRepository statuses, HttpRequest request)
    {
        // Bound as one string, repeated values would be joined with commas into a batch id nobody sent.
        foreach (var name in (ReadOnlySpan<string>)["batchId", "showDetails"])
        {
            if (request.Query[name].Count > 1)
                return Problems.BadRequest($"The query parameter {name} is given more than once; send it once.");
        }
        if (string.IsNullOrEmpty(batchId)) return Problems.BadRequest("The query parameter batchId is required.");
        var details = string.Equals(showDetails, "true", StringComparison.OrdinalIgnoreCase);
        var view = await statuses.ReadAsync(client.Code, batchId, details);
        if (view is null)
            return Problems.Create(StatusCodes.Status404NotFound,
                $"No batch {batchId} is known for client {client.Code} (statuses are kept for a limited time).");

        var response = new XElement("response",
            new XElement("batchId", XmlText.Safe(view.BatchId)),
            new XElement("status", view.Status),
            new XElement("batchSize", view.Counts.BatchSize));
        if (details)
        {
            response.Add(
                new XElement("consumedCount", view.Counts.Consumed),
                new XElement("successfulUpdates", view.Counts.Successful),
                new XElement("profilesNotFound", view.Counts.NotFound),
                new XElement("failedUpdates", view.Counts.Failed),
                new XElement("profilesCreated", view.Counts.Created));
            // A bulk erase names its successes for what they are (the same number as successfulUpdates).
            if (view.Erase) response.Add(new XElement("profilesDeleted", view.Counts.Successful));
        }
        if (view.Message is { } message) response.Add(new XElement("message", XmlText.Safe(message)));
        if (details)
        {
            foreach (var failure in view.Failures)
            {
                response.Add(new XElement("profile",
                    new XElement("id", XmlText.Safe(failure.Id ?? string.Empty)),
                    new XElement("status", "failed"),
                    new XElement("row", failure.Row),
                    new XElement("message", XmlText.Safe(failure.Message))));
            }
        }
        return TypedResults.Text(response.ToString(SaveOptions.DisableFormatting), Xml);
    }

    private static ProblemHttpResult TooLarge(LimitsOptions limits, string nothing) =>
        Problems.Create(StatusCodes.Status413PayloadTooLarge,
            $"The batch file must be smaller than {limits.MaxBatchBytes} bytes; split it into several files." + nothing);

    private static string NewBatchId(string client, TimeProvider time) =>
        $"{client}-{time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}-" +
        RandomNumberGenerator.GetInt32(0, 100_000_000).ToString("D8", CultureInfo.InvariantCulture);

    private static string StatusUrl(HttpRequest request, string client, string batchId, bool v2) =>
        $"{request.Scheme}://{request.Host}{request.PathBase}/m2/{Uri.EscapeDataString(client)}{(v2 ? "/v2" : "")}/profile/batchStatus?batchId={Uri.EscapeDataString(batchId)}";

    // The exception's type and message (file system errors name the path, never the body), not the upload's content.
    [LoggerMessage(Level = LogLevel.Error, Message = "Batch {BatchId} could not be stored in the spool {SpoolDirectory} ({Error}: {Reason}); answered 503")]
    private static partial void LogNotStored(ILogger logger, string batchId, string? error, string? reason, string spoolDirectory);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} accepted: {Rows} rows, {Bytes} bytes spooled")]
    private static partial void LogAccepted(ILogger logger, string batchId, long rows, long bytes);
}
