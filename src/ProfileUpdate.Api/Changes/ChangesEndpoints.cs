using ProfileUpdate.Api.Clients;
using ProfileUpdate.Api.Http;
using ProfileUpdate.Api.Store;

namespace ProfileUpdate.Api.Changes;

/// <summary>
/// The change feed (docs/api.md §9): every applied change to a client's profiles, oldest first, as pages (pull) or as
/// Server-Sent Events (push) on the same URL. Opt-in (Changes:Enabled); authenticated like the profile read API.
/// </summary>
public static class ChangesEndpoints
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    public static IEndpointRouteBuilder MapChanges(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/rest/v1").WithTags("Changes").ForClient(ClientSource.Query);
        group.MapGet("/changes", ChangesAsync)
            .WithName("GetChanges")
            .WithSummary("Read the change feed: every applied change, oldest first, as a page or (Accept: text/event-stream) as Server-Sent Events");
        return app;
    }

    /// <summary>What the feed's handler needs, bound as one parameter.</summary>
    public readonly record struct ChangeServices(ChangeLog Log, ChangeStreams Streams, ChangeLogSignal Signal, IOptions<ProfileUpdateOptions> Options);

    internal static async Task<Results<Ok<ChangePage>, ChangeStream, ProblemHttpResult>> ChangesAsync(
        ResolvedClient client, HttpContext context, [AsParameters] ChangeServices services, string? after = null, string? limit = null)
    {
        var options = services.Options.Value;
        if (!options.Changes.Enabled)
            return Problems.Create(StatusCodes.Status404NotFound,
                "The change feed is off on this service. Start it with ProfileUpdate__Changes__Enabled=true (configuration key ProfileUpdate:Changes:Enabled) to record and serve changes.");

        var stream = context.Request.Headers.Accept.ToString().Contains("text/event-stream", StringComparison.OrdinalIgnoreCase);
        // A reconnecting EventSource sends the last id it received; it wins over the URL's after (the URL is the first one's).
        var lastEventId = context.Request.Headers["Last-Event-ID"].ToString();
        var fromHeader = stream && lastEventId.Length > 0;
        var cursor = fromHeader ? lastEventId : after;
        ChangePosition? position = null;
        if (!string.IsNullOrEmpty(cursor))
        {
            // Until the store has answered once, whether it is a cluster (the cursor's shape) is not known.
            if (!await services.Log.SettleLogsAsync())
                return Problems.Unavailable(context, options.Store.RetryAfterSeconds,
                    "The profile store has not answered since this instance started, so the cursor cannot be read yet; retry after the Retry-After interval.");
            switch (ChangeCursor.TryDecode(cursor, services.Log.Logs, out var decoded))
            {
                case CursorFormat.Invalid:
                    return Problems.BadRequest(fromHeader
                        ? $"The Last-Event-ID header '{Clip(cursor)}' is not a cursor of this change feed; send the id of an event this feed sent, or reconnect without Last-Event-ID to start from the oldest entry kept."
                        : $"'{Clip(cursor)}' is not a cursor of this change feed; pass the id (or next) of an entry this feed returned, or leave after out to start from the oldest entry kept.");
                case CursorFormat.Earlier:
                    return Problems.Create(StatusCodes.Status410Gone,
                        $"The cursor is of the format this feed used before its cursors named the change log they belong to, so it cannot be checked against the log client {client.Code} has now. {Restart(fromHeader)}");
            }
            position = decoded;
        }
        var size = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out size) || size is < 1 or > MaxLimit))
            return Problems.BadRequest($"limit must be a whole number from 1 to {MaxLimit} (default {DefaultLimit}).");

        if (stream && !services.Streams.TryOpen())
            return Problems.Unavailable(context, 5,
                $"This instance already serves its maximum of {options.Changes.MaxStreams} change streams (ProfileUpdate:Changes:MaxStreams); retry later or read pages without Accept: text/event-stream.");
        var handedOver = false;
        try
        {
            // Taken before the first read: an entry appended right after it wakes the stream instead of waiting for a poll.
            var appended = stream ? services.Signal.NextAppendAsync(client.Code) : null;
            var read = await services.Log.ReadAsync(client.Code, position, stream ? ChangeStream.PageSize : size);
            if (read.OutOfRange) return Problems.Create(StatusCodes.Status410Gone, GoneMessage(client.Code, read, fromHeader));
            if (stream)
            {
                handedOver = true; // the stream releases its slot when it ends
                return new ChangeStream(client.Code, position, read, appended!, services.Log, services.Streams, services.Signal, options.Changes);
            }
            // The positions after the page: the last entry's id, or where the read started when there was none.
            return TypedResults.Ok(new ChangePage(read.Entries, ChangeCursor.Encode(read.Next)));
        }
        finally
        {
            if (stream && !handedOver) services.Streams.Close();
        }
    }

    /// <summary>Why a cursor cannot be read from (a page's 410, a stream's <c>gone</c> event), and what to do.</summary>
    /// <param name="stream">The cursor came from the stream (its Last-Event-ID, or the position it reached): say so in the advice.</param>
    internal static string GoneMessage(string client, ChangeRead read, bool stream) => read.Gap switch
    {
        ChangeGap.Trimmed when read.Oldest is { } oldest =>
            $"The cursor is older than what the change log of client {client} holds: it keeps the most recent entries only, and now reaches back to {oldest.At}, the time of its oldest entry (cursor {oldest.Id} is the position just before that entry). {Restart(stream)}",
        ChangeGap.Ahead =>
            $"The cursor is ahead of the change log of client {client}: it points past the newest entry the log holds. The log lost its newest entries (a failover to a replica that had not received them), or the cursor is not one this feed gave for this client; entries after it cannot be told apart from new ones. {Restart(stream)}",
        ChangeGap.Trimmed =>
            $"The cursor is older than what the change log of client {client} holds: it keeps the most recent entries only. {Restart(stream)}",
        _ =>
            $"The cursor does not belong to the change log client {client} has now: the log was lost since the cursor was made (the store restarted without persistence, or its data was deleted) and has started anew, so the entries after the cursor are gone and its positions mean nothing in the new log (or the cursor was made for another client's feed). {Restart(stream)}",
    };

    private static string Restart(bool stream) => stream
        ? "Re-read the profiles you need, then reconnect without Last-Event-ID (and without after) to start from the oldest entry kept."
        : "Re-read the profiles you need, then read again without after to start from the oldest entry kept.";

    private static string Clip(string value) => value.Length <= 64 ? value : value[..64] + "…";
}
