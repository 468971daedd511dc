using System.Buffers;
using System.Text;
using System.Text.Json;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;
using ProfileUpdate.Api.Store;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace ProfileUpdate.Api.Changes;

/// <summary>
/// The feed as Server-Sent Events: one event per entry (<c>id:</c> the cursor, <c>event:</c> the kind, <c>data:</c> the
/// entry's JSON), a comment while idle so that no gap between two writes exceeds HeartbeatInterval (also while a read
/// waits on a slow store). New entries are read as soon as this instance appends one
/// for the client (<see cref="ChangeLogSignal"/>), and otherwise (other instances' writes) by polling every PollInterval.
/// Memory per stream is one page: the next page is read only once the previous one has been handed to the connection. A
/// reader that does not take what was sent within SlowReaderTimeout (the connection's buffers stay full) gets a
/// <c>cut-off</c> event and the stream ends; it resumes with Last-Event-ID. A read the store fails (down, stalled, timed
/// out) does not end the stream: it is retried after a back-off of at most PollInterval, heartbeats going on.
/// </summary>
/// <param name="appended">The signal's wait taken before <paramref name="firstPage"/> was read.</param>
public sealed class ChangeStream(string client, ChangePosition? position, ChangeRead firstPage, Task appended, ChangeLog log, ChangeStreams streams,
    ChangeLogSignal signal, ChangesOptions options)
    : IResult
{
    /// <summary>Entries read per round trip.</summary>
    public const int PageSize = 100;

    private static readonly byte[] Heartbeat = ": keep-alive\n\n"u8.ToArray();

    /// <summary>
    /// The service's HTTP JSON settings, with which a page of the feed is written: an event's data is the same JSON as the
    /// entry in a page, escaped alike (the relaxed escaping of response bodies, not the HTML-safe default).
    /// </summary>
    private static JsonSerializerOptions Json(HttpContext context) =>
        context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        try
        {
            var context = httpContext;
            var response = context.Response;
            // The stream ends when the reader leaves or the service stops (a graceful stop must not wait for readers).
            using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted,
                context.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping);
            var aborted = ending.Token;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no"; // nginx: pass events through as they come
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            var writer = response.BodyWriter;
            writer.Write("retry: 1000\n\n"u8);
            if (!await FlushAsync(context, writer, aborted)) return;

            var page = firstPage;
            var json = Json(context);
            var time = context.RequestServices.GetRequiredService<TimeProvider>();
            var logger = context.RequestServices.GetRequiredService<ILogger<ChangeStream>>();
            var keepAlive = new KeepAlive(this, context, writer, options.HeartbeatInterval, time, aborted);
            while (!aborted.IsCancellationRequested)
            {
                if (page.OutOfRange)
                {
                    // The reader fell behind the log's trimming while connected, or the log was lost and started anew
                    // (its identity changed): it cannot continue from here.
                    WriteNotice(writer, json, "gone", ChangesEndpoints.GoneMessage(client, page, stream: true));
                    await FlushAsync(context, writer, aborted);
                    return;
                }
                foreach (var entry in page.Entries)
                    WriteEvent(writer, entry.Id, entry.Kind, JsonSerializer.SerializeToUtf8Bytes(entry, json));
                position = page.Next;
                if (page.Entries.Count > 0 && !await keepAlive.FlushAsync()) return;
                if (!page.More)
                {
                    // Heartbeats go out while waiting, not only between waits: a gap never exceeds HeartbeatInterval.
                    if (!await keepAlive.WhileAsync(Task.WhenAny(appended, Task.Delay(options.PollInterval, time, aborted)))) return;
                }
                var failures = 0; // consecutive failed reads: the current store outage, as this stream sees it
                var failedSince = 0L;
                while (true)
                {
                    // The next wait is taken before the read, so an append while reading is not left for the poll.
                    if (appended.IsCompleted) appended = signal.NextAppendAsync(client);
                    var reading = log.ReadAsync(client, position, PageSize);
                    // A read held up by a stalled store (up to its timeout) does not hold up the heartbeats either.
                    if (!await keepAlive.WhileAsync(reading)) return;
                    try
                    {
                        page = await reading;
                        break;
                    }
                    catch (Exception ex) when (StoreFailures.IsUnavailable(ex))
                    {
                        // The headers are sent: a failure here cannot become a 503, and ending the stream would not help
                        // the reader (its reconnect would meet the 503, which a browser's EventSource does not retry). The
                        // stream stays open at its position and reads again after a bounded back-off, heartbeats going on
                        // meanwhile; what was written during the outage arrives once the store answers. Logged once per
                        // outage and stream, with what failed only: no keys, no values.
                        if (failures++ == 0)
                        {
                            failedSince = time.GetTimestamp();
                            logger.LogWarning("A change stream could not read its log ({ExceptionType}); it stays open and reads again until the store answers.",
                                ex.GetType().Name);
                        }
                        // An append of this instance's (a write the store took: it is back) ends the wait at once.
                        if (!await keepAlive.WhileAsync(Task.WhenAny(appended, Task.Delay(RetryDelay(failures, options.PollInterval), time, aborted)))) return;
                    }
                }
                if (failures > 0)
                    logger.LogInformation("A change stream reads its log again, after {Failures} failed reads over {Seconds:0.0} s.",
                        failures, time.GetElapsedTime(failedSince).TotalSeconds);
            }
        }
        finally
        {
            streams.Close();
        }
    }

    /// <summary>
    /// The pause before reading again after the <paramref name="failures"/>-th failed read in a row: 0.25 s doubling, at
    /// most <paramref name="pollInterval"/> (0.25 s by default) — so a change written once the store is back reaches the
    /// stream as soon as it would without the outage, not after a longer back-off (§9: within a second). A read of a
    /// store that is down fails fast, so trying once per interval costs it little.
    /// </summary>
    private static TimeSpan RetryDelay(int failures, TimeSpan pollInterval) =>
        TimeSpan.FromMilliseconds(Math.Min(pollInterval.TotalMilliseconds, 250 << Math.Min(failures - 1, 5)));

    /// <summary>
    /// How early a heartbeat goes out: a tenth of HeartbeatInterval, at most 1 s, before it is due. Timers fire late and
    /// a busy machine runs the continuation later still; sending exactly at the interval would make every idle gap a
    /// little longer than it (the spec's 15 s is a maximum).
    /// </summary>
    private static TimeSpan HeartbeatLead(TimeSpan interval) => TimeSpan.FromTicks(Math.Min(interval.Ticks / 10, TimeSpan.TicksPerSecond));

    /// <summary>
    /// The stream's writes and its heartbeat clock: every flush restarts the clock, and whatever the stream waits for
    /// (the next poll or append, a read, the back-off after a failed read) it waits for through <see cref="WhileAsync"/>,
    /// which writes a heartbeat whenever one is due. So no gap between two writes exceeds HeartbeatInterval, whatever
    /// PollInterval is and however long a read takes.
    /// </summary>
    private sealed class KeepAlive(ChangeStream stream, HttpContext context, PipeWriter writer, TimeSpan interval, TimeProvider time,
        CancellationToken aborted)
    {
        private readonly TimeSpan _every = interval - HeartbeatLead(interval);
        private long _lastSent = time.GetTimestamp();

        /// <summary>Flushes what was written (see <see cref="ChangeStream.FlushAsync"/>); false when the stream is over.</summary>
        public async Task<bool> FlushAsync()
        {
            if (!await stream.FlushAsync(context, writer, aborted)) return false;
            _lastSent = time.GetTimestamp();
            return true;
        }

        /// <summary>Waits for <paramref name="task"/>, sending heartbeats when due; false when the stream is over.</summary>
        public async Task<bool> WhileAsync(Task task)
        {
            while (true)
            {
                var due = _every - time.GetElapsedTime(_lastSent);
                if (due <= TimeSpan.Zero)
                {
                    writer.Write(Heartbeat);
                    if (!await FlushAsync()) return false;
                    continue;
                }
                if (task.IsCompleted) return !aborted.IsCancellationRequested;
                // Cancelled once the task is done, so a wait that ended early leaves no timer behind.
                using (var stop = CancellationTokenSource.CreateLinkedTokenSource(aborted))
                {
                    await Task.WhenAny(task, Task.Delay(due, time, stop.Token));
                    await stop.CancelAsync();
                }
                if (aborted.IsCancellationRequested) return false;
            }
        }
    }

    /// <summary>
    /// Hands what was written to the connection. A reader that has not taken it within SlowReaderTimeout (the
    /// connection's buffers stay full) is slow: it is given another SlowReaderTimeout to take what is queued, then gets
    /// a <c>cut-off</c> event and the stream ends; a reader that takes nothing in that time either is disconnected. So
    /// the server never holds more than one page (and the connection's own buffer) for a reader that cannot keep up.
    /// </summary>
    private async Task<bool> FlushAsync(HttpContext context, PipeWriter writer, CancellationToken aborted)
    {
        try
        {
            var pending = writer.FlushAsync(aborted).AsTask();
            if (!pending.IsCompleted)
            {
                if (await Task.WhenAny(pending, Task.Delay(options.SlowReaderTimeout, aborted)) != pending)
                {
                    streams.CutOff();
                    if (await Task.WhenAny(pending, Task.Delay(options.SlowReaderTimeout, aborted)) != pending)
                    {
                        context.Abort();
                        return false;
                    }
                    if ((await pending).IsCompleted) return false;
                    WriteNotice(writer, Json(context), "cut-off",
                        $"The stream was ended because its events were not read within {options.SlowReaderTimeout.TotalSeconds:0.###} s; " +
                        "reconnect with Last-Event-ID set to the last id received to continue where it stopped.");
                    using var last = CancellationTokenSource.CreateLinkedTokenSource(aborted);
                    last.CancelAfter(options.SlowReaderTimeout);
                    await writer.FlushAsync(last.Token);
                    return false;
                }
            }
            var result = await pending;
            return !result.IsCompleted && !result.IsCanceled;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static void WriteEvent(IBufferWriter<byte> writer, string? id, string name, byte[] data)
    {
        if (id is not null)
        {
            writer.Write("id: "u8);
            Write(writer, id);
            writer.Write("\n"u8);
        }
        writer.Write("event: "u8);
        Write(writer, name);
        writer.Write("\ndata: "u8);
        writer.Write(data); // compact JSON: line breaks inside values are escaped, so it is one line
        writer.Write("\n\n"u8);
    }

    /// <summary>One of the stream's own events (gone, cut-off): no id, data <c>{"message":…}</c>, camelCase as every body.</summary>
    private static void WriteNotice(IBufferWriter<byte> writer, JsonSerializerOptions json, string name, string message) =>
        WriteEvent(writer, null, name, JsonSerializer.SerializeToUtf8Bytes(new StreamNotice(message), json));

    private static void Write(IBufferWriter<byte> writer, string text)
    {
        var span = writer.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        writer.Advance(Encoding.UTF8.GetBytes(text, span));
    }

    private sealed record StreamNotice(string Message);
}
