using System.Net;
using System.Net.Http.Json;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;

namespace ProfileUpdate.Client;

/// <summary>The change feed (docs/api.md §9): pages, every page until caught up, or followed as Server-Sent Events.</summary>
public sealed partial class ProfileUpdateClient
{
    /// <summary>
    /// The name of the HttpClient <see cref="FollowChangesAsync"/> uses: no <see cref="HttpClient.Timeout"/> and no
    /// resilience handler, because a stream lives as long as its reader follows it (an overall request timeout would cut
    /// every stream) and reconnecting is the stream's own loop. Configure it with
    /// <c>services.AddHttpClient(ProfileUpdateClient.StreamClientName)</c> (a proxy, a primary handler).
    /// </summary>
    public const string StreamClientName = "ProfileUpdate.Client.ChangeStream";

    /// <summary>The largest page the service serves.</summary>
    public const int MaxChangesPerPage = 1000;

    /// <summary>What a stream waits before its first reconnect when the service named no <c>retry:</c>.</summary>
    private static readonly TimeSpan DefaultReconnectDelay = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Reads one page of the change feed (<c>GET /rest/v1/changes</c>): the entries after <paramref name="after"/>, oldest
    /// first, and the cursor to continue from. Retried after 429/503 like every call.
    /// </summary>
    /// <param name="after">A cursor (an entry's <see cref="ChangeEntry.Id"/> or a page's <see cref="ChangePage.Next"/>); null for the oldest entry kept.</param>
    /// <param name="limit">1 to <see cref="MaxChangesPerPage"/>; null for the service's default (100).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <exception cref="ProfileUpdateException">
    /// 410 when the entries after <paramref name="after"/> cannot be read: older than what the log keeps (the message
    /// says how far back it reaches), or the log was lost and started anew since the cursor was made, or the cursor is
    /// ahead of the log (the message says which) — re-read the profiles you need, then start again without
    /// <paramref name="after"/>; 404 when the feed is off on the
    /// service (the message names the setting); 400 for a cursor of another feed or a limit out of range.
    /// </exception>
    public async Task<ChangePage> ReadChangesAsync(string? after = null, int? limit = null, CancellationToken cancellationToken = default)
    {
        var path = ChangesPath(after) + (limit is { } size ? $"&limit={size.ToString(System.Globalization.CultureInfo.InvariantCulture)}" : "");
        using var response = await _http.GetAsync(path, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync<ChangePage>(JsonOptions, cancellationToken).ConfigureAwait(false)
               ?? throw new ProfileUpdateException((int)response.StatusCode, "The change feed answered an empty body.");
    }

    /// <summary>
    /// Every entry after <paramref name="after"/>, read page by page (<see cref="MaxChangesPerPage"/> at a time) until a
    /// page comes back empty: catching up without a stream. The last entry's <see cref="ChangeEntry.Id"/> is where to
    /// continue from next time. Exceptions as <see cref="ReadChangesAsync"/>.
    /// </summary>
    public async IAsyncEnumerable<ChangeEntry> ReadAllChangesAsync(string? after = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var cursor = after;
        while (true)
        {
            var page = await ReadChangesAsync(cursor, MaxChangesPerPage, cancellationToken).ConfigureAwait(false);
            if (page.Changes.Count == 0) yield break;
            foreach (var entry in page.Changes) yield return entry;
            cursor = page.Next;
        }
    }

    /// <summary>
    /// Follows the change feed as Server-Sent Events until <paramref name="cancellationToken"/> is cancelled: first every
    /// entry after <paramref name="after"/> (null: from the oldest kept), then each new change as it is applied (within a
    /// second). Each entry is yielded exactly once, in the feed's order: when the connection drops, the service ends the
    /// stream (a restart, a <c>cut-off</c> of a reader that did not keep up) or nothing at all (not even the keep-alive)
    /// arrives for <see cref="ProfileUpdateClientOptions.StreamIdleTimeout"/>, it reconnects with
    /// <c>Last-Event-ID</c> = the id of the last entry yielded, waiting the service's <c>retry:</c> (1 s), doubled after
    /// each failed attempt up to <see cref="ProfileUpdateClientOptions.MaxReconnectDelay"/>; so does any failure answer but
    /// the four below (a 503 at the instance's stream limit, a 429, a proxy's 502/504, a 500, a 408), waiting its
    /// Retry-After when it has one (capped the same). It keeps reconnecting for as long as it is followed;
    /// <see cref="ProfileUpdateClientOptions.OnReconnect"/> is told each time.
    /// </summary>
    /// <param name="after">A cursor to start after; null for the oldest entry kept.</param>
    /// <param name="cancellationToken">Stops following (the enumeration then throws <see cref="OperationCanceledException"/>).</param>
    /// <exception cref="ProfileUpdateException">
    /// 410 (an <c>event: gone</c> mid-stream, or a 410 answer) with the service's message: the entries after the last one
    /// yielded were trimmed, or the log they were in was lost and started anew (a store restarted without persistence), so
    /// the caller must re-read the profiles it needs and follow again from the oldest entry
    /// (<paramref name="after"/> null). 404 when the feed is off (the message names the setting); 401 for a wrong token;
    /// 400 for a cursor of another feed. These are not retried.
    /// </exception>
    public async IAsyncEnumerable<ChangeEntry> FollowChangesAsync(string? after = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var http = _factory.CreateClient(StreamClientName);
        string? lastId = null;
        var failures = 0;
        var retry = DefaultReconnectDelay;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var yielded = false;
            string reason;
            TimeSpan? serverDelay = null;
            var (response, failure) = await OpenStreamAsync(http, after, lastId, cancellationToken).ConfigureAwait(false);
            using (response)
            {
                if (response is null)
                {
                    reason = failure!;
                }
                else if (!response.IsSuccessStatusCode && !EndsTheStream(response.StatusCode))
                {
                    // 503 (the stream limit), 429, and any other failure — a proxy's 502/504, a 500, a 408 — is a service
                    // that may answer next time: a follower outlives it, as it outlives a dropped connection.
                    reason = $"answered {(int)response.StatusCode}";
                    serverDelay = RetryAfterOf(response);
                }
                else
                {
                    await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
                    var body = new IdleTimeoutStream(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), _options.StreamIdleTimeout);
                    await using (body.ConfigureAwait(false))
                    {
                        var parser = SseParser.Create(body); // data as UTF-8 text; the BCL parser follows the HTML standard's event-stream rules
                        var events = parser.EnumerateAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
                        await using (events.ConfigureAwait(false))
                        {
                            while (true)
                            {
                                var (item, ended) = await NextEventAsync(events, cancellationToken).ConfigureAwait(false);
                                if (item is not { } sse)
                                {
                                    reason = ended ?? "the service ended the stream";
                                    break;
                                }
                                if (sse.EventType == "gone") throw new ProfileUpdateException(410, NoticeMessage(sse.Data));
                                if (sse.EventType == "cut-off")
                                {
                                    reason = "cut off: " + NoticeMessage(sse.Data);
                                    break;
                                }
                                if (ParseEntry(sse) is not { } entry) continue;
                                lastId = entry.Id;
                                yielded = true;
                                yield return entry;
                            }
                        }
                        if (parser.ReconnectionInterval is { } interval && interval > TimeSpan.Zero && interval != Timeout.InfiniteTimeSpan) retry = interval;
                    }
                }
            }

            // A stream that delivered is a fresh start: wait the service's retry only. Attempts that got nothing back off.
            failures = yielded ? 0 : failures + 1;
            var delay = serverDelay ?? TimeSpan.FromTicks(retry.Ticks * (1L << Math.Clamp(failures - 1, 0, 16)));
            if (delay < TimeSpan.Zero) delay = TimeSpan.Zero;
            if (delay > _options.MaxReconnectDelay) delay = _options.MaxReconnectDelay;
            _options.OnReconnect?.Invoke(new ReconnectNotice(failures, reason, delay, lastId ?? after));
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The answers that end a followed stream: the cursor's entries were trimmed (410), the feed is off or the client
    /// unknown (404), the token is wrong (401), the request is invalid (400). Reconnecting cannot change them; every other
    /// failure can pass.
    /// </summary>
    private static bool EndsTheStream(HttpStatusCode status) =>
        status is HttpStatusCode.Gone or HttpStatusCode.NotFound or HttpStatusCode.Unauthorized or HttpStatusCode.BadRequest;

    /// <summary>
    /// Sends the stream request; a transport failure (refused, reset, no answer within the idle timeout) is returned as a
    /// reason to reconnect, not thrown. The caller's cancellation is thrown.
    /// </summary>
    private async Task<(HttpResponseMessage? Response, string? Failure)> OpenStreamAsync(HttpClient http, string? after, string? lastId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, ChangesPath(after));
        request.Headers.Accept.ParseAdd("text/event-stream");
        // The service takes Last-Event-ID over the URL's after, as for a reconnecting EventSource.
        if (lastId is not null) request.Headers.TryAddWithoutValidation("Last-Event-ID", lastId);
        using var answer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        answer.CancelAfter(_options.StreamIdleTimeout);
        try
        {
            return (await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, answer.Token).ConfigureAwait(false), null);
        }
        catch (HttpRequestException ex)
        {
            return (null, ex.Message);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (null, $"no answer within {_options.StreamIdleTimeout.TotalSeconds:0.#} s");
        }
    }

    /// <summary>The next event, or null with why the connection is over (null reason: the service ended it cleanly).</summary>
    private static async Task<(SseItem<string>? Item, string? Ended)> NextEventAsync(IAsyncEnumerator<SseItem<string>> events, CancellationToken cancellationToken)
    {
        try
        {
            return await events.MoveNextAsync().ConfigureAwait(false) ? (events.Current, null) : (null, null);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // A dropped connection (or a silent one, see IdleTimeoutStream): what it delivered completely stands; a
            // partial event at the break was never dispatched, so it comes again after the reconnect.
            return (null, "connection lost: " + ex.Message);
        }
    }

    /// <summary>
    /// An entry event as its record. An event of a kind this client does not know (a newer service's) is an entry too when
    /// its data has the entry's shape, so no entry is skipped; anything else is not ours to interpret (null).
    /// </summary>
    private static ChangeEntry? ParseEntry(SseItem<string> sse)
    {
        if (sse.EventType is ChangeKind.Created or ChangeKind.Updated or ChangeKind.Deleted)
            return JsonSerializer.Deserialize<ChangeEntry>(sse.Data, JsonOptions) ?? throw new ProfileUpdateException(200, "The change stream sent an empty entry.");
        try
        {
            return JsonSerializer.Deserialize<ChangeEntry>(sse.Data, JsonOptions) is { Id.Length: > 0, TntId.Length: > 0 } entry ? entry : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private string ChangesPath(string? after) =>
        $"rest/v1/changes?client={_client}" + (after is null ? "" : "&after=" + Uri.EscapeDataString(after));

    /// <summary>The message of the stream's own events (<c>{"message":…}</c>).</summary>
    private static string NoticeMessage(string data)
    {
        try
        {
            using var json = JsonDocument.Parse(data);
            if (json.RootElement.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.String) return message.GetString()!;
        }
        catch (JsonException)
        {
            // Not the documented shape: show what came.
        }
        return data;
    }
}

/// <summary>A change stream about to reconnect.</summary>
/// <param name="Attempt">Consecutive attempts that delivered nothing (0 after a stream that delivered entries).</param>
/// <param name="Reason">Why: the connection was lost, the service ended the stream or cut it off, or answered a failure other than 400/401/404/410 (503, 429, 502, …).</param>
/// <param name="Delay">The wait before reconnecting.</param>
/// <param name="LastEventId">The cursor it resumes after (the last entry yielded, else the <c>after</c> given).</param>
public sealed record ReconnectNotice(int Attempt, string Reason, TimeSpan Delay, string? LastEventId);

/// <summary>
/// A response body that fails a read with <see cref="IOException"/> when no byte arrives for the idle timeout: the
/// service sends a keep-alive comment every 15 s, so a longer silence is a connection that died without a FIN (a NAT or
/// proxy dropped it), which would otherwise block the reader forever.
/// </summary>
internal sealed class IdleTimeoutStream(Stream inner, TimeSpan idle) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(idle);
        try
        {
            return await inner.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new IOException($"Nothing arrived for {idle.TotalSeconds:0.#} s (not even a keep-alive): the connection is taken for dead.");
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override void Flush() { }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }
}
