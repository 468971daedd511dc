using System.Buffers;
using System.Text;
using System.Text.Json;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;
using ProfileUpdate.Api.Store;

namespace ProfileUpdate.Api.Changes;

/// <summary>
/// The feed as Server-Sent Events: one event per entry (<c>id:</c> the cursor, <c>event:</c> the kind, <c>data:</c> the
/// entry's JSON), a comment every HeartbeatInterval while idle. New entries are read as soon as this instance appends one
/// for the client (<see cref="ChangeLogSignal"/>), and otherwise (other instances' writes) by polling every PollInterval.
/// Memory per stream is one page: the next page is read only once the previous one has been handed to the connection. A
/// reader that does not take what was sent within SlowReaderTimeout (the connection's buffers stay full) gets a
/// <c>cut-off</c> event and the stream ends; it resumes with Last-Event-ID.
/// </summary>
/// <param name="appended">The signal's wait taken before <paramref name="firstPage"/> was read.</param>
public sealed class ChangeStream(string client, long[]? position, ChangeRead firstPage, Task appended, ChangeLog log, ChangeStreams streams,
    ChangeLogSignal signal, ChangesOptions options)
    : IResult
{
    /// <summary>Entries read per round trip.</summary>
    public const int PageSize = 100;

    private static readonly byte[] Heartbeat = ": keep-alive\n\n"u8.ToArray();

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
            var lastSent = Environment.TickCount64; // only to pace heartbeats
            while (!aborted.IsCancellationRequested)
            {
                if (page.OutOfRange)
                {
                    // The reader fell behind the log's trimming while connected: it cannot continue from here.
                    WriteNotice(writer, "gone",
                        "The change log no longer holds the entries after the last one sent (they were trimmed): resume from the oldest retained entry (no Last-Event-ID).");
                    await FlushAsync(context, writer, aborted);
                    return;
                }
                foreach (var entry in page.Entries)
                    WriteEvent(writer, entry.Id, entry.Kind, JsonSerializer.SerializeToUtf8Bytes(entry, JsonSerializerOptions.Web));
                position = page.Next;
                if (page.Entries.Count > 0)
                {
                    if (!await FlushAsync(context, writer, aborted)) return;
                    lastSent = Environment.TickCount64;
                }
                if (!page.More)
                {
                    if (Environment.TickCount64 - lastSent >= (long)options.HeartbeatInterval.TotalMilliseconds)
                    {
                        writer.Write(Heartbeat);
                        if (!await FlushAsync(context, writer, aborted)) return;
                        lastSent = Environment.TickCount64;
                    }
                    await Task.WhenAny(appended, Task.Delay(options.PollInterval, aborted));
                    if (aborted.IsCancellationRequested) return;
                }
                // The next wait is taken before the read, so an append while reading is not left for the poll.
                if (appended.IsCompleted) appended = signal.NextAppendAsync(client);
                page = await log.ReadAsync(client, position, PageSize);
            }
        }
        finally
        {
            streams.Close();
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
                    WriteNotice(writer, "cut-off",
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
    private static void WriteNotice(IBufferWriter<byte> writer, string name, string message) =>
        WriteEvent(writer, null, name, JsonSerializer.SerializeToUtf8Bytes(new StreamNotice(message), JsonSerializerOptions.Web));

    private static void Write(IBufferWriter<byte> writer, string text)
    {
        var span = writer.GetSpan(Encoding.UTF8.GetMaxByteCount(text.Length));
        writer.Advance(Encoding.UTF8.GetBytes(text, span));
    }

    private sealed record StreamNotice(string Message);
}
