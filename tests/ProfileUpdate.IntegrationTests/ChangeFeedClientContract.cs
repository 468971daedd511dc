using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ProfileUpdate.Cli;
using ProfileUpdate.Client;
using ProfileUpdate.IntegrationTests.Infrastructure;
using ChangeStreams = ProfileUpdate.Api.Changes.ChangeStreams;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// The change feed through the .NET client and <c>profile-update changes</c> against the real service with the feed on
/// (the settings of <see cref="ChangeFeedContract"/>: 2 streams per instance, 1 s heartbeat, 3 s slow-reader timeout,
/// 20,000 entries kept), on real Redis and the embedded store: typed pages, following with delivery within a second,
/// resumption after a dropped connection, a cut-off and a 503 without loss or duplicates, 410 with the server's message.
/// </summary>
public abstract class ChangeFeedClientContract(StoreServiceFixture fixture) : IDisposable
{
    private readonly string _client = Wire.NewClient();
    private readonly List<ReconnectNotice> _reconnects = [];
    private ServiceProvider? _services;

    /// <summary>A client of this test's client code, without stream tampering.</summary>
    private ProfileUpdateClient Client => (_services ??= Services()).GetRequiredService<ProfileUpdateClient>();

    private ChangeStreams Streams => fixture.Services.GetRequiredService<ChangeStreams>();

    public void Dispose()
    {
        _services?.Dispose();
        GC.SuppressFinalize(this);
    }

    private void SkipWithoutStore() => Skip.If(fixture.SkipReason is not null, fixture.SkipReason);

    private ServiceProvider Services(Func<DelegatingHandler>? streamHandler = null, Action<ProfileUpdateClientOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddProfileUpdateClient(o =>
        {
            (o.BaseAddress, o.Client) = (fixture.Client.BaseAddress, _client);
            // The server's retry: is 1 s; the tests reconnect sooner so that several reconnects stay quick.
            o.MaxReconnectDelay = TimeSpan.FromMilliseconds(100);
            o.OnReconnect = notice => { lock (_reconnects) _reconnects.Add(notice); };
            configure?.Invoke(o);
        });
        if (streamHandler is not null) services.AddHttpClient(ProfileUpdateClient.StreamClientName).AddHttpMessageHandler(streamHandler);
        return services.BuildServiceProvider();
    }

    private List<ReconnectNotice> Reconnects()
    {
        lock (_reconnects) return [.. _reconnects];
    }

    /// <summary>Streams closed by an earlier test end on the server a moment later; the instance serves only 2.</summary>
    private Task NoStreamsOpenAsync() =>
        Eventually.WaitUntilAsync(() => Task.FromResult(Streams.Open == 0), TimeSpan.FromSeconds(30), "the streams closed by the client to end on the server");

    private static Dictionary<string, string> Attrs(params (string Name, string Value)[] pairs) => pairs.ToDictionary(p => p.Name, p => p.Value);

    private static async Task<ChangeEntry> NextAsync(IAsyncEnumerator<ChangeEntry> follow, TimeSpan within)
    {
        var next = follow.MoveNextAsync().AsTask();
        if (await Task.WhenAny(next, Task.Delay(within)) != next) Assert.Fail($"no entry within {within.TotalSeconds:0.#} s");
        Assert.True(await next, "the follow ended");
        return follow.Current;
    }

    private async Task BatchAsync(string rows)
    {
        using var batch = new MemoryStream(Encoding.UTF8.GetBytes(rows));
        await Client.SubmitBatchAsync(batch, new BatchSubmitOptions { Wait = true });
    }

    [SkippableFact]
    public async Task Pages_are_typed_entries_in_order_with_next_and_read_all_pages_catches_up()
    {
        SkipWithoutStore();
        var client = Client;
        var visit = await client.VisitAsync("s1", thirdPartyId: "crm-1", profileParameters: Attrs(("tier", "gold")));
        await client.UpdateAsync(new ProfileUpdateRequest(ProfileId.ThirdParty("crm-1"), Attrs(("city", "Köln am Rhein")), ["tier"]));
        Assert.Equal(DeleteOutcome.Deleted, await client.DeleteProfileAsync(ProfileId.Tnt(visit.TntId)));

        var first = await client.ReadChangesAsync(limit: 2);
        Assert.Equal(2, first.Changes.Count);
        var (created, updated) = (first.Changes[0], first.Changes[1]);
        Assert.Equal((ChangeKind.Created, visit.TntId, "crm-1"), (created.Kind, created.TntId, created.ThirdPartyId));
        Assert.Equal(Attrs(("tier", "gold")), created.Set);
        Assert.Empty(created.Removed);
        Assert.Equal(ChangeKind.Updated, updated.Kind);
        Assert.Equal(Attrs(("city", "Köln am Rhein")), updated.Set);
        Assert.Equal(["tier"], updated.Removed);
        Assert.True(Math.Abs((DateTimeOffset.UtcNow - created.At).TotalMinutes) < 5, $"at {created.At:O}");
        Assert.True(created.At <= updated.At);
        Assert.Equal(updated.Id, first.Next);

        var second = await client.ReadChangesAsync(first.Next);
        Assert.Equal(ChangeKind.Deleted, Assert.Single(second.Changes).Kind);
        var caughtUp = await client.ReadChangesAsync(second.Next);
        Assert.Empty(caughtUp.Changes);
        Assert.Equal(second.Next, caughtUp.Next);

        // More than two pages of 1,000: every entry once, in the order the pages give them.
        var rows = new StringBuilder("batch=thirdPartyId,n\n");
        for (var i = 0; i < 2100; i++) rows.Append("all-").Append(i).Append(",1\n");
        await BatchAsync(rows.ToString());
        var all = new List<ChangeEntry>();
        await foreach (var entry in client.ReadAllChangesAsync()) all.Add(entry);
        Assert.Equal(2103, all.Count);
        Assert.Equal([created.Id, updated.Id, second.Changes[0].Id], all.Take(3).Select(e => e.Id));
        Assert.Equal(2103, all.Select(e => e.Id).Distinct().Count());
        var fromSecond = new List<string>();
        await foreach (var entry in client.ReadAllChangesAsync(updated.Id)) fromSecond.Add(entry.Id);
        Assert.Equal(all.Skip(2).Select(e => e.Id), fromSecond);

        var bad = await Assert.ThrowsAsync<ProfileUpdateException>(() => client.ReadChangesAsync(limit: 1001));
        Assert.Equal(400, bad.StatusCode);
        Assert.Contains("limit", bad.ServerMessage, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Follow_yields_the_backlog_then_each_new_change_within_a_second_and_at_once_when_written_here()
    {
        SkipWithoutStore();
        var client = Client;
        await client.VisitAsync("s1", thirdPartyId: "f-1", profileParameters: Attrs(("n", "0")));
        await NoStreamsOpenAsync();
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var follow = client.FollowChangesAsync(cancellationToken: stop.Token).GetAsyncEnumerator(stop.Token);

        Assert.Equal(ChangeKind.Created, (await NextAsync(follow, TimeSpan.FromSeconds(10))).Kind);
        // The fixtures poll every second (Changes:PollInterval, the most allowed): found by polling, a change would be
        // yielded after 500 ms on average, so a median under 300 ms over seven changes says the write woke the stream.
        var latencies = new List<double>();
        for (var i = 1; i <= 7; i++)
        {
            await client.UpdateAsync(ProfileId.ThirdParty("f-1"), Attrs(("n", $"{i}")));
            var applied = Stopwatch.StartNew();
            var entry = await NextAsync(follow, TimeSpan.FromSeconds(10));
            Assert.True(applied.Elapsed < TimeSpan.FromSeconds(1), $"change {i} was yielded {applied.Elapsed.TotalMilliseconds:0} ms after it was applied");
            Assert.Equal(Attrs(("n", $"{i}")), entry.Set);
            latencies.Add(applied.Elapsed.TotalMilliseconds);
        }
        latencies.Sort();
        Assert.True(latencies[3] < 300, $"median {latencies[3]:0} ms from 200 to yield ({string.Join(", ", latencies.Select(l => l.ToString("0", System.Globalization.CultureInfo.InvariantCulture)))} ms)");
        Assert.Empty(Reconnects());

        // Cancelling ends the enumeration with OperationCanceledException (the caller's own cancellation, not a failure).
        var pending = follow.MoveNextAsync().AsTask();
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
    }

    [SkippableFact]
    public async Task Follow_resumes_after_dropped_connections_and_a_stream_ended_mid_event_without_loss_or_duplicates()
    {
        SkipWithoutStore();
        await Client.VisitAsync("s1", thirdPartyId: "d-1", profileParameters: Attrs(("n", "0")));
        for (var i = 1; i < 12; i++) await Client.UpdateAsync(ProfileId.ThirdParty("d-1"), Attrs(("n", $"{i}")));
        var expected = (await Client.ReadChangesAsync(limit: 1000)).Changes.Select(e => e.Id).ToList();
        Assert.Equal(12, expected.Count);
        // Connection 1 fails after 700 bytes, 2 ends cleanly after 500 and 3 fails after 300 — each in the middle of an
        // event (an entry is ~230 bytes), so the entry cut in half must come again, whole, after the reconnect.
        var cuts = new Queue<(int Bytes, bool Fail)>([(700, true), (500, false), (300, true)]);
        var lastEventIds = new List<string?>();
        using var services = Services(() => new CuttingHandler(cuts, lastEventIds));
        var client = services.GetRequiredService<ProfileUpdateClient>();
        await NoStreamsOpenAsync();
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var follow = client.FollowChangesAsync(cancellationToken: stop.Token).GetAsyncEnumerator(stop.Token);

        var seen = new List<ChangeEntry>();
        while (seen.Count < 12) seen.Add(await NextAsync(follow, TimeSpan.FromSeconds(20)));
        Assert.Equal(expected, seen.Select(e => e.Id));
        Assert.Equal(Enumerable.Range(0, 12).Select(i => $"{i}"), seen.Select(e => e.Set["n"]));
        // And the live tail after the reconnects: a change made now.
        await Client.UpdateAsync(ProfileId.ThirdParty("d-1"), Attrs(("n", "12")));
        Assert.Equal("12", (await NextAsync(follow, TimeSpan.FromSeconds(10))).Set["n"]);

        // Three reconnects, each sending the id of the last entry yielded before it (never one cut in half). In between
        // the instance may still count the cut connections as open streams for a moment: 503s, waited out and retried.
        var reconnects = Reconnects().Where(r => r.Reason != "answered 503").ToList();
        Assert.True(reconnects.Count == 3, string.Join("\n", reconnects));
        Assert.Contains("connection lost", reconnects[0].Reason, StringComparison.Ordinal);
        Assert.Equal("the service ended the stream", reconnects[1].Reason);
        lock (lastEventIds)
        {
            Assert.Equal(4, lastEventIds.Count);
            Assert.Null(lastEventIds[0]);
            Assert.Equal(reconnects.Select(r => r.LastEventId), lastEventIds.Skip(1));
            Assert.All(lastEventIds.Skip(1), id => Assert.Contains(id, expected));
            Assert.True(expected.IndexOf(lastEventIds[1]!) < expected.IndexOf(lastEventIds[2]!), "the second connection delivered nothing");
        }
    }

    [SkippableFact]
    public async Task Follow_that_does_not_read_is_cut_off_and_resumes_from_its_last_entry_without_loss_or_duplicates()
    {
        SkipWithoutStore();
        var client = Client;
        await client.VisitAsync("s1", thirdPartyId: "slow-x");
        await NoStreamsOpenAsync();
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        await using var follow = client.FollowChangesAsync(cancellationToken: stop.Token).GetAsyncEnumerator(stop.Token);
        var seen = new List<string> { (await NextAsync(follow, TimeSpan.FromSeconds(10))).Id };
        var cutOffs = Streams.CutOffs;

        // ~25 MB of entries, far more than the connection's buffers hold, while the follower takes nothing.
        var value = new string('v', 250);
        var rows = new StringBuilder("batch=thirdPartyId,a,b,c,d,e,f,g,h,i,j\n");
        for (var i = 0; i < 10_000; i++) rows.Append("slow-").Append(i).Append(string.Concat(Enumerable.Repeat("," + value, 10))).Append('\n');
        await BatchAsync(rows.ToString());
        await Eventually.WaitUntilAsync(() => Task.FromResult(Streams.CutOffs > cutOffs), TimeSpan.FromSeconds(90), "the idle follower to be judged slow");

        // The log as pages read it, complete: the batch was waited for. Every row is in it. It holds 10,001 entries,
        // or more when a chunk met a store timeout on a loaded machine and the batch was applied again from its
        // checkpoint, which logs those rows again (bulk is at-least-once in the feed: docs/api.md §9). The follower
        // must deliver exactly that log, whatever its length: nothing lost, nothing twice across the cut-off.
        var log = new List<ChangeEntry>();
        await foreach (var entry in client.ReadAllChangesAsync()) log.Add(entry);
        var all = log.Select(e => e.Id).ToList();
        Assert.Equal(
            Enumerable.Range(0, 10_000).Select(i => $"slow-{i}").Append("slow-x").Order(StringComparer.Ordinal),
            log.Select(e => e.ThirdPartyId!).Distinct().Order(StringComparer.Ordinal));
        Assert.True(all.Count >= 10_001, $"the log holds {all.Count} entries");
        while (seen.Count < all.Count) seen.Add((await NextAsync(follow, TimeSpan.FromSeconds(30))).Id);
        Assert.Equal(all, seen);
        var cutOff = Assert.Single(Reconnects(), r => r.Reason.StartsWith("cut off", StringComparison.Ordinal));
        Assert.Contains(cutOff.LastEventId, seen);
        // The server's message itself, read from the event's {"message":…}, not the event's raw JSON.
        Assert.StartsWith("cut off: The stream was ended because its events were not read within", cutOff.Reason, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Follow_waits_out_a_503_at_the_instance_stream_limit_then_delivers()
    {
        SkipWithoutStore();
        var client = Client;
        await client.VisitAsync("s1", thirdPartyId: "busy-1");
        await NoStreamsOpenAsync();
        using var one = await SseReader.OpenAsync(fixture.Client, $"/rest/v1/changes?client={_client}");
        var two = await SseReader.OpenAsync(fixture.Client, $"/rest/v1/changes?client={_client}");
        using var services = Services(configure: o => o.MaxReconnectDelay = TimeSpan.FromSeconds(30));
        using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var follow = services.GetRequiredService<ProfileUpdateClient>().FollowChangesAsync(cancellationToken: stop.Token).GetAsyncEnumerator(stop.Token);

        var first = follow.MoveNextAsync().AsTask();
        await Eventually.WaitUntilAsync(() => Task.FromResult(Reconnects().Count > 0), TimeSpan.FromSeconds(20), "the follow to be refused with 503");
        var refused = Reconnects()[0];
        Assert.Equal("answered 503", refused.Reason);
        Assert.Equal(TimeSpan.FromSeconds(5), refused.Delay); // the service's Retry-After
        two.Dispose();
        Assert.True(await first.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("busy-1", follow.Current.ThirdPartyId);
    }

    [SkippableFact]
    public async Task A_trimmed_cursor_fails_pages_follow_and_the_cli_with_410_and_the_servers_message()
    {
        SkipWithoutStore();
        var client = Client;
        await client.VisitAsync("s1", thirdPartyId: "trim-1");
        await client.UpdateAsync(ProfileId.ThirdParty("trim-1"), Attrs(("m", "first")));
        // The visit's cursor: the update after it is trimmed once the log has taken Cap more entries.
        var tooOld = (await client.ReadChangesAsync(limit: 1)).Next;
        var rows = new StringBuilder("batch=thirdPartyId,m\n");
        for (var i = 0; i < ChangeFeedContract.Cap; i++) rows.Append("trim-1,").Append(i).Append('\n');
        await BatchAsync(rows.ToString());
        var kept = (await client.ReadChangesAsync(limit: 1)).Changes[0];
        Assert.Equal("0", kept.Set["m"]);

        var page = await Assert.ThrowsAsync<ProfileUpdateException>(() => client.ReadChangesAsync(tooOld));
        Assert.Equal(410, page.StatusCode);
        Assert.Contains(kept.At.ToString("yyyy-MM-dd'T'HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture), page.ServerMessage, StringComparison.Ordinal);

        await NoStreamsOpenAsync();
        var followed = await Assert.ThrowsAsync<ProfileUpdateException>(async () =>
        {
            await foreach (var _ in client.FollowChangesAsync(tooOld)) Assert.Fail("an entry after a trimmed cursor");
        });
        Assert.Equal((410, page.ServerMessage), (followed.StatusCode, followed.ServerMessage));
        Assert.Empty(Reconnects()); // a 410 is final: not retried

        var (exit, output, error) = await CliAsync("changes", "--after", tooOld);
        Assert.Equal(CliApp.Failed, exit);
        Assert.Equal("", output);
        Assert.StartsWith("410: ", error, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Cli_changes_prints_plain_lines_or_ndjson_and_the_next_cursor_on_stderr()
    {
        SkipWithoutStore();
        var visit = await Client.VisitAsync("s1", thirdPartyId: "cli-1", profileParameters: Attrs(("tier", "gold")));
        await Client.UpdateAsync(new ProfileUpdateRequest(ProfileId.ThirdParty("cli-1"), Attrs(("city", "Köln am Rhein"), ("note", "a=\"b\"")), ["tier"]));
        var entries = (await Client.ReadChangesAsync()).Changes;
        string At(ChangeEntry e) => e.At.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", System.Globalization.CultureInfo.InvariantCulture);
        string[] lines =
        [
            $"{At(entries[0])} created {visit.TntId} cli-1 tier=gold",
            $"{At(entries[1])} updated {visit.TntId} cli-1 city=\"Köln am Rhein\" note=\"a=\\\"b\\\"\" -tier",
        ];

        var (exit, output, error) = await CliAsync("changes");
        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");
        Assert.Equal(lines, Lines(output));
        Assert.Equal($"next: {entries[1].Id}", error.TrimEnd());
        Assert.DoesNotContain("\u001b[", output, StringComparison.Ordinal);

        (exit, output, error) = await CliAsync("changes", "--limit", "1");
        Assert.Equal((CliApp.Ok, $"next: {entries[0].Id}"), (exit, error.TrimEnd()));
        Assert.Equal(lines[..1], Lines(output));
        (exit, output, error) = await CliAsync("changes", "--after", entries[0].Id);
        Assert.Equal((CliApp.Ok, $"next: {entries[1].Id}"), (exit, error.TrimEnd()));
        Assert.Equal(lines[1..], Lines(output));
        (exit, output, error) = await CliAsync("changes", "--after", entries[1].Id);
        Assert.Equal((CliApp.Ok, "", $"next: {entries[1].Id}"), (exit, output, error.TrimEnd()));

        (exit, output, error) = await CliAsync("changes", "--json");
        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");
        var json = Lines(output).Select(line => JsonDocument.Parse(line).RootElement).ToList();
        Assert.Equal(2, json.Count);
        Assert.Equal(entries.Select(e => e.Id), json.Select(j => j.GetProperty("id").GetString()));
        Assert.Equal("Köln am Rhein", json[1].GetProperty("set").GetProperty("city").GetString());
        Assert.Equal("tier", json[1].GetProperty("removed")[0].GetString());
        Assert.Contains("Köln", output, StringComparison.Ordinal); // readable, not \u-escaped

        (exit, _, error) = await CliAsync("changes", "--after", "bogus");
        Assert.Equal(CliApp.Failed, exit);
        Assert.StartsWith("400: ", error, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Cli_changes_follow_prints_an_update_made_after_it_started_and_exits_0_with_the_last_id_when_stopped()
    {
        SkipWithoutStore();
        await Client.VisitAsync("s1", thirdPartyId: "cli-f");
        await NoStreamsOpenAsync();
        using var output = new LineWriter();
        using var error = new LineWriter();
        using var stop = new CancellationTokenSource();
        var run = CliApp.RunAsync(["changes", "--follow", "--url", fixture.Client.BaseAddress!.ToString(), "--client", _client], output, error,
            interactive: false, cancellationToken: stop.Token);
        await Eventually.WaitUntilAsync(() => Task.FromResult(output.Text.Contains(" created ", StringComparison.Ordinal)), TimeSpan.FromSeconds(20), "the backlog line");

        await Client.UpdateAsync(ProfileId.ThirdParty("cli-f"), Attrs(("plan", "pro")));
        await Eventually.WaitUntilAsync(() => Task.FromResult(output.Text.Contains(" plan=pro", StringComparison.Ordinal)), TimeSpan.FromSeconds(10), "the update's line");
        await stop.CancelAsync();
        var exit = await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output.Text}{error.Text}");
        Assert.Equal(2, Lines(output.Text).Length);
        var last = (await Client.ReadChangesAsync()).Changes[^1];
        Assert.Equal($"next: {last.Id}", error.Text.TrimEnd());
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();

    private Task<(int Exit, string Output, string Error)> CliAsync(params string[] args) =>
        ClientCli.RunAsync([.. args, "--url", fixture.Client.BaseAddress!.ToString(), "--client", _client]);

    /// <summary>
    /// Cuts the change stream's connections as told, one cut per connection in order (after that, connections pass
    /// untouched): after that many bytes the body either fails (a dropped connection) or ends (the service closed it).
    /// Records the Last-Event-ID of each stream the service accepted.
    /// </summary>
    private sealed class CuttingHandler(Queue<(int Bytes, bool Fail)> cuts, List<string?> lastEventIds) : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode) return response;
            lock (lastEventIds)
                lastEventIds.Add(request.Headers.TryGetValues("Last-Event-ID", out var id) ? id.Single() : null);
            (int Bytes, bool Fail)? cut;
            lock (cuts) cut = cuts.Count > 0 ? cuts.Dequeue() : null;
            if (cut is { } c)
            {
                var body = new CutStream(await response.Content.ReadAsStreamAsync(cancellationToken), c.Bytes, c.Fail);
                var content = new StreamContent(body);
                foreach (var header in response.Content.Headers) content.Headers.TryAddWithoutValidation(header.Key, header.Value);
                response.Content = content;
            }
            return response;
        }
    }

    private sealed class CutStream(Stream inner, int bytes, bool fail) : Stream
    {
        private int _left = bytes;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_left == 0) return fail ? throw new IOException("simulated dropped connection") : 0;
            var read = await inner.ReadAsync(buffer[..Math.Min(buffer.Length, _left)], cancellationToken);
            _left -= read;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}

/// <summary>A TextWriter a test can read while a command still writes to it.</summary>
internal sealed class LineWriter : TextWriter
{
    private readonly StringBuilder _text = new();

    public override Encoding Encoding => Encoding.UTF8;

    public string Text
    {
        get
        {
            lock (_text) return _text.ToString();
        }
    }

    public override void Write(char value)
    {
        lock (_text) _text.Append(value);
    }

    public override void Write(string? value)
    {
        lock (_text) _text.Append(value);
    }
}

/// <summary>
/// The two stores' classes one after the other: the cut-off test pushes ~25 MB through a stream, and run beside the
/// other store's delivery-within-a-second test it would be this contract's own load that the second measures.
/// </summary>
[CollectionDefinition(nameof(ChangeFeedClientCollection))]
public sealed class ChangeFeedClientCollection;

[Collection(nameof(ChangeFeedClientCollection))]
public sealed class ChangeFeedClientOnRedis(ChangeFeedOnRedisFixture fixture) : ChangeFeedClientContract(fixture), IClassFixture<ChangeFeedOnRedisFixture>;

[Collection(nameof(ChangeFeedClientCollection))]
public sealed class ChangeFeedClientOnEmbeddedStore(ChangeFeedOnEmbeddedFixture fixture) : ChangeFeedClientContract(fixture), IClassFixture<ChangeFeedOnEmbeddedFixture>;
