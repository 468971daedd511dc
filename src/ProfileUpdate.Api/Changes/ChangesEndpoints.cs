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
        var cursor = stream && lastEventId.Length > 0 ? lastEventId : after;
        long[]? position = null;
        if (!string.IsNullOrEmpty(cursor))
        {
            // Until the store has answered once, whether it is a cluster (the cursor's shape) is not known.
            if (!await services.Log.SettleLogsAsync())
                return Problems.Unavailable(context, options.Store.RetryAfterSeconds,
                    "The profile store has not answered since this instance started, so the cursor cannot be read yet; retry after the Retry-After interval.");
            if (!ChangeCursor.TryDecode(cursor, services.Log.Logs, out var decoded))
                return Problems.BadRequest($"'{Clip(cursor)}' is not a cursor of this change feed; pass the id (or next) of an entry this feed returned, or leave after out to start from the oldest entry kept.");
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
            if (read.OutOfRange) return Gone(client.Code, read);
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

    private static ProblemHttpResult Gone(string client, ChangeRead read) =>
        Problems.Create(StatusCodes.Status410Gone, read.Oldest is { } oldest
            ? $"The cursor is outside what the change log of client {client} holds: it keeps the most recent entries only, and now reaches back to {oldest.At}, the time of its oldest entry (cursor {oldest.Id} is the position just before that entry). Read again without after to start from there, after re-reading the profiles you need."
            : $"The cursor is outside what the change log of client {client} holds: the log is empty (it was reset). Read again without after.");

    private static string Clip(string value) => value.Length <= 64 ? value : value[..64] + "…";
}
