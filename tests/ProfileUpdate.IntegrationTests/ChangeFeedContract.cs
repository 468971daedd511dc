using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using ProfileUpdate.Api.Changes;
using ProfileUpdate.Api.Store;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// docs/api.md §9, the change feed: every applied change (single update, removal, visit that created or set, bulk v1 and
/// v2 rows, delete, bulk erase) appears once, in order, in its client's log only; pull with after/limit/next and 410 for
/// a trimmed cursor; Server-Sent Events with delivery within 1 s, Last-Event-ID resumption, heartbeats, the per-instance
/// stream limit and the cut-off of a reader that does not read. On real Redis, the embedded store and Redis Cluster
/// (where a client's log is partitioned, and the feed merges the partitions).
/// </summary>
public abstract class ChangeFeedContract(StoreServiceFixture fixture)
{
    /// <summary>The fixture's log cap: small, so one batch reaches trimming.</summary>
    public const int Cap = 20_000;

    private readonly HttpClient _http = fixture.Client;

    private void SkipWithoutStore() => Skip.If(fixture.SkipReason is not null, fixture.SkipReason);

    private async Task<(List<JsonElement> Changes, string Next)> PullAsync(string client, string? after = null, int? limit = null)
    {
        var url = $"/rest/v1/changes?client={client}" + (after is null ? "" : $"&after={after}") + (limit is null ? "" : $"&limit={limit}");
        using var response = await _http.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        var root = JsonDocument.Parse(body).RootElement.Clone();
        return (root.GetProperty("changes").EnumerateArray().ToList(), root.GetProperty("next").GetString()!);
    }

    private async Task UpdateAsync(string client, string query, string expected = "applied")
    {
        using var response = await _http.GetAsync($"/m2/{client}/profile/update?{query}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(expected, Assert.Single(response.Headers.GetValues("X-Profile-Update")));
    }

    private async Task BatchAsync(string client, string path, string body)
    {
        using var response = await Wire.PostBatchAndWaitAsync(_http, $"/m2/{client}/{path}", new StringContent(body, Encoding.UTF8, "text/csv"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK && text.Contains("<success>true</success>", StringComparison.Ordinal), text);
    }

    private static string Set(JsonElement change) => string.Join(",", change.GetProperty("set").EnumerateObject().Select(p => $"{p.Name}={p.Value.GetString()}"));

    private static string Removed(JsonElement change) => string.Join(",", change.GetProperty("removed").EnumerateArray().Select(v => v.GetString()));

    /// <summary>Streams this test closed end on the server a moment later (when it sees the connection go): wait for that.</summary>
    private Task NoStreamsOpenAsync() =>
        Eventually.WaitUntilAsync(() => Task.FromResult(fixture.Services.GetRequiredService<ChangeStreams>().Open == 0),
            TimeSpan.FromSeconds(30), "the streams closed by the client to end on the server");

    private static string? Str(JsonElement change, string name) => change.GetProperty(name).ValueKind == JsonValueKind.Null ? null : change.GetProperty(name).GetString();

    [SkippableFact]
    public async Task Every_kind_of_change_is_logged_once_in_order_and_nothing_else()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var tnt = await Wire.VisitAsync(_http, client, thirdPartyId: "crm-1", parameters: new Dictionary<string, string> { ["tier"] = "gold" }); // 1 created
        await Wire.VisitAsync(_http, client, thirdPartyId: "crm-1");                                             // no change: not logged
        await Wire.VisitAsync(_http, client, thirdPartyId: "crm-1", parameters: new Dictionary<string, string> { ["seen"] = "2" }); // 2 updated
        await UpdateAsync(client, "mbox3rdPartyId=crm-1&profile.city=K%C3%B6ln");                               // 3 updated
        await UpdateAsync(client, $"mboxPC={tnt}&profile.plan=pro&emptyValues=remove&profile.tier=");           // 4 updated + removed
        await UpdateAsync(client, "mbox3rdPartyId=nobody&profile.a=1", "profile-not-found");                   // nothing
        await BatchAsync(client, "profile/batchUpdate", "batch=thirdPartyId,city\ncrm-1,Bonn\nnobody,x\n");     // 5 v1 row (one not found)
        await BatchAsync(client, "v2/profile/batchUpdate", "batch=thirdPartyId,tier\ncrm-2,silver\ncrm-1,gold\n"); // 6 created, 7 updated
        using (var deleted = await _http.DeleteAsync($"/rest/v1/profiles/thirdPartyId/crm-2?client={client}"))  // 8 deleted
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await BatchAsync(client, "v2/profile/batchDelete", "batch=thirdPartyId\ncrm-1\nnever\n");               // 9 deleted

        var (changes, next) = await PullAsync(client);
        string[] expected =
        [
            "created tier=gold  crm-1", "updated seen=2  crm-1", "updated city=Köln  crm-1", "updated plan=pro tier -",
            "updated city=Bonn  crm-1", "created tier=silver  crm-2", "updated tier=gold  crm-1", "deleted   crm-2", "deleted   crm-1",
        ];
        var actual = changes.Select(c => $"{c.GetProperty("kind").GetString()} {Set(c)} {Removed(c)} {Str(c, "thirdPartyId") ?? "-"}").ToArray();
        if (Logs == 1) Assert.Equal(expected, actual);
        else
        {
            // One log per partition (Redis Cluster): every entry once, each profile's in order; across profiles the
            // order is by time, and changes stamped in the same millisecond (one bulk chunk) may come in either order.
            Assert.Equal(expected.Order(StringComparer.Ordinal), actual.Order(StringComparer.Ordinal));
            var tnt2 = changes.First(c => Str(c, "thirdPartyId") == "crm-2").GetProperty("tntId").GetString();
            foreach (var (profile, indexes) in new[] { (tnt, new[] { 0, 1, 2, 3, 4, 6, 8 }), (tnt2, new[] { 5, 7 }) })
                Assert.Equal(indexes.Select(i => expected[i]), actual.Where((_, i) => changes[i].GetProperty("tntId").GetString() == profile));
        }
        AssertInTimeOrder(changes);
        Assert.All(changes.Where(c => Str(c, "thirdPartyId") == "crm-1"), c => Assert.Equal(tnt, c.GetProperty("tntId").GetString()));
        Assert.Equal(changes[^1].GetProperty("id").GetString(), next);
        Assert.Equal(changes.Count, changes.Select(c => c.GetProperty("id").GetString()).Distinct().Count());
        foreach (var change in changes)
            Assert.True(DateTimeOffset.TryParse(change.GetProperty("at").GetString(), out var at) && Math.Abs((DateTimeOffset.UtcNow - at).TotalMinutes) < 5);
    }

    /// <summary>Change logs per client on the fixture's store: 1, or one per partition on Redis Cluster.</summary>
    private int Logs => fixture.Services.GetRequiredService<ChangeLog>().Logs;

    private static void AssertInTimeOrder(List<JsonElement> changes)
    {
        var times = changes.Select(c => DateTimeOffset.Parse(c.GetProperty("at").GetString()!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        for (var i = 1; i < times.Count; i++) Assert.True(times[i - 1] <= times[i], $"entry {i} ({times[i]:O}) comes after a later one ({times[i - 1]:O})");
    }

    [SkippableFact]
    public async Task Small_pages_over_many_profiles_return_every_entry_once_in_time_order()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        // 300 profiles (spread over every partition), created by one batch, then 200 of them updated one by one.
        var rows = new StringBuilder("batch=thirdPartyId,n\n");
        for (var i = 0; i < 300; i++) rows.Append("m-").Append(i).Append(",0\n");
        await BatchAsync(client, "v2/profile/batchUpdate", rows.ToString());
        for (var i = 0; i < 200; i += 20)
        {
            var part = new StringBuilder("batch=thirdPartyId,n\n");
            for (var j = i; j < i + 20; j++) part.Append("m-").Append(j).Append(",1\n");
            await BatchAsync(client, "profile/batchUpdate", part.ToString());
        }

        var all = new List<JsonElement>();
        string? cursor = null;
        for (var pages = 0; pages < 1000; pages++)
        {
            var (page, next) = await PullAsync(client, cursor, limit: 7);
            Assert.True(page.Count <= 7);
            if (page.Count == 0 && next == cursor) break;
            all.AddRange(page);
            cursor = next;
        }
        Assert.Equal(500, all.Count);
        Assert.Equal(500, all.Select(c => c.GetProperty("id").GetString()).Distinct().Count());
        Assert.Equal(300, all.Count(c => c.GetProperty("kind").GetString() == "created"));
        AssertInTimeOrder(all);
        // Each profile's own entries in the order they were applied: its creation before its update.
        foreach (var profile in all.GroupBy(c => Str(c, "thirdPartyId")))
            Assert.Equal(profile.Count() == 2 ? ["n=0", "n=1"] : new[] { "n=0" }, profile.Select(Set).ToArray());
        // One page of everything is the same sequence as the small pages.
        var (whole, _) = await PullAsync(client, limit: 1000);
        Assert.Equal(all.Select(c => c.GetProperty("id").GetString()), whole.Select(c => c.GetProperty("id").GetString()));
    }

    [SkippableFact]
    public async Task Pages_follow_after_and_next_and_a_trimmed_cursor_answers_410()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var (empty, start) = await PullAsync(client);
        Assert.Empty(empty);
        await Wire.VisitAsync(_http, client, thirdPartyId: "p-1");
        for (var i = 1; i < 10; i++) await UpdateAsync(client, $"mbox3rdPartyId=p-1&profile.n={i}");

        // From the cursor of an empty log, pages of 4, 4, 2, then none: next stays where it was.
        var seen = new List<string>();
        var cursor = start;
        foreach (var size in new[] { 4, 4, 2, 0 })
        {
            var (page, next) = await PullAsync(client, cursor, limit: 4);
            Assert.Equal(size, page.Count);
            seen.AddRange(page.Select(Set));
            Assert.Equal(size == 0 ? cursor : page[^1].GetProperty("id").GetString(), next);
            cursor = next;
        }
        Assert.Equal(new[] { "" }.Concat(Enumerable.Range(1, 9).Select(i => $"n={i}")).ToArray(), seen.ToArray());
        var (all, _) = await PullAsync(client, limit: 1000);
        Assert.Equal(10, all.Count);
        var fifth = all[4].GetProperty("id").GetString()!;
        Assert.Equal(all.Skip(5).Select(Set), (await PullAsync(client, fifth)).Changes.Select(Set));

        // Bad cursors and limits are 400 with a reason.
        foreach (var query in new[] { "after=bogus", "after=MTo", "limit=0", "limit=1001", "limit=x" })
        {
            using var bad = await _http.GetAsync($"/rest/v1/changes?client={client}&{query}");
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        }

        // Past the cap, the oldest entries are trimmed: their cursors answer 410 saying how far back the log reaches. The
        // cap is shared evenly by a client's logs (one per partition on a cluster); p-1's changes all go to one of them.
        var perLog = (Cap + Logs - 1) / Logs;
        var rows = new StringBuilder("batch=thirdPartyId,m\n");
        for (var i = 0; i < perLog; i++) rows.Append("p-1,").Append(i).Append('\n');
        await BatchAsync(client, "v2/profile/batchUpdate", rows.ToString());
        var (kept, _) = await PullAsync(client, limit: 1000);
        Assert.Equal(Math.Min(1000, perLog), kept.Count);
        Assert.Equal("m=0", Set(kept[0])); // the 10 earlier entries are gone, the batch's rows all kept
        using var gone = await _http.GetAsync($"/rest/v1/changes?client={client}&after={fifth}");
        Assert.Equal(HttpStatusCode.Gone, gone.StatusCode);
        var goneMessage = await Wire.ProblemMessageAsync(gone);
        Assert.Contains(kept[0].GetProperty("at").GetString()!, goneMessage, StringComparison.Ordinal);
        // A cursor the message names is called an entry only when it is one: the position just before the oldest entry
        // is not (it once read "entry <that position>").
        foreach (System.Text.RegularExpressions.Match named in System.Text.RegularExpressions.Regex.Matches(goneMessage, @"\bentry ([A-Za-z0-9_-]{6,})"))
            Assert.Equal(kept[0].GetProperty("id").GetString(), named.Groups[1].Value);
        // The cursor of the oldest kept entry is still good: nothing after it was lost.
        var (fromSecond, _) = await PullAsync(client, kept[0].GetProperty("id").GetString(), limit: 1);
        Assert.Equal("m=1", Set(Assert.Single(fromSecond)));
    }

    /// <summary>
    /// Loses the client's change logs as a store restarted without persistence does (the embedded store, Redis without
    /// RDB/AOF), keeping its profiles: the next write starts each log anew at its first position.
    /// </summary>
    private async Task LoseLogsAsync(string client)
    {
        var db = fixture.Store.GetDatabase();
        for (var n = 0; n < Logs; n++) await db.KeyDeleteAsync(RedisKeys.ChangeLog(client, n));
    }

    private async Task<(HttpStatusCode Status, string Message)> ProblemAsync(string client, string? after, string? lastEventId = null, bool stream = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/rest/v1/changes?client={client}" + (after is null ? "" : $"&after={after}"));
        if (stream || lastEventId is not null) request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null) request.Headers.Add("Last-Event-ID", lastEventId);
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode == HttpStatusCode.OK) return (response.StatusCode, await (stream || lastEventId is not null ? Task.FromResult("") : response.Content.ReadAsStringAsync()));
        return (response.StatusCode, await Wire.ProblemMessageAsync(response));
    }

    [SkippableFact]
    public async Task A_cursor_of_a_lost_log_answers_410_and_never_reads_the_log_that_replaced_it()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        await Wire.VisitAsync(_http, client, thirdPartyId: "lost-1", parameters: new Dictionary<string, string> { ["n"] = "1" });
        for (var i = 2; i <= 5; i++) await UpdateAsync(client, $"mbox3rdPartyId=lost-1&profile.n={i}");
        var (old, fifth) = await PullAsync(client);
        Assert.Equal(5, old.Count);
        var second = old[1].GetProperty("id").GetString()!;

        await LoseLogsAsync(client);
        for (var i = 1; i <= 2; i++) await UpdateAsync(client, $"mbox3rdPartyId=lost-1&profile.new={i}");
        // The old cursors name positions the new log also has (2) or will have (5): neither reads it.
        foreach (var cursor in new[] { fifth, second })
        {
            var (status, message) = await ProblemAsync(client, cursor);
            Assert.Equal(HttpStatusCode.Gone, status);
            Assert.Contains("started anew", message, StringComparison.Ordinal);
            Assert.DoesNotContain("reaches back", message, StringComparison.Ordinal);
        }
        for (var i = 3; i <= 7; i++) await UpdateAsync(client, $"mbox3rdPartyId=lost-1&profile.new={i}");
        // Once the new log is longer than the old one was: still 410, for a page and for a stream by after= or Last-Event-ID.
        Assert.Equal(HttpStatusCode.Gone, (await ProblemAsync(client, fifth)).Status);
        Assert.Equal(HttpStatusCode.Gone, (await ProblemAsync(client, second)).Status);
        await NoStreamsOpenAsync();
        var (byAfter, byAfterMessage) = await ProblemAsync(client, fifth, stream: true);
        Assert.Equal(HttpStatusCode.Gone, byAfter);
        Assert.Contains("started anew", byAfterMessage, StringComparison.Ordinal);
        var (byHeader, byHeaderMessage) = await ProblemAsync(client, null, lastEventId: fifth);
        Assert.Equal(HttpStatusCode.Gone, byHeader);
        Assert.Contains("without Last-Event-ID", byHeaderMessage, StringComparison.Ordinal);

        // Read without a cursor, the new log is whole, and its own cursors read on.
        var (fresh, _) = await PullAsync(client);
        Assert.Equal(Enumerable.Range(1, 7).Select(i => $"new={i}"), fresh.Select(Set));
        Assert.Equal(Enumerable.Range(4, 4).Select(i => $"new={i}"), (await PullAsync(client, fresh[2].GetProperty("id").GetString())).Changes.Select(Set));
    }

    [SkippableFact]
    public async Task A_stream_whose_log_is_lost_while_it_follows_ends_with_gone()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        await Wire.VisitAsync(_http, client, thirdPartyId: "lost-2", parameters: new Dictionary<string, string> { ["n"] = "1" });
        await NoStreamsOpenAsync();
        using var stream = await SseReader.OpenAsync(_http, $"/rest/v1/changes?client={client}");
        Assert.Equal("created", (await stream.NextEventAsync()).Event);
        await UpdateAsync(client, "mbox3rdPartyId=lost-2&profile.n=2");
        Assert.Equal("updated", (await stream.NextEventAsync()).Event);

        await LoseLogsAsync(client);
        for (var i = 1; i <= 3; i++) await UpdateAsync(client, $"mbox3rdPartyId=lost-2&profile.new={i}");
        var events = await stream.ReadToEndAsync();
        // Nothing of the new log is sent as if it followed the old one's entries: the stream ends with gone.
        Assert.Equal("gone", Assert.Single(events).Event);
        using var notice = JsonDocument.Parse(events[0].Data);
        Assert.Contains("started anew", notice.RootElement.GetProperty("message").GetString()!, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_cursor_ahead_of_its_log_and_one_of_the_earlier_format_answer_410_saying_which()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        await Wire.VisitAsync(_http, client, thirdPartyId: "ahead-1");
        for (var i = 1; i <= 3; i++) await UpdateAsync(client, $"mbox3rdPartyId=ahead-1&profile.n={i}");
        var (entries, next) = await PullAsync(client);
        Assert.Equal(4, entries.Count);

        // The log's own identity, a position past its newest entry: what a log that lost its newest entries (a failover
        // to a replica that had not received them) meets.
        Assert.Equal(CursorFormat.Valid, ChangeCursor.TryDecode(next, Logs, out var position));
        var positions = position.Positions.ToArray();
        var n = Array.FindIndex(positions, p => p > 0);
        positions[n] += 21;
        var (status, message) = await ProblemAsync(client, ChangeCursor.Encode(positions, position.Identity));
        Assert.Equal(HttpStatusCode.Gone, status);
        Assert.Contains("ahead of the change log", message, StringComparison.Ordinal);
        Assert.DoesNotContain("reaches back", message, StringComparison.Ordinal);

        // A cursor of the format without the log's identity ('AgEFAA' on one log: position 5) cannot be checked: 410.
        var earlier = new List<byte> { 2, (byte)Logs, 5 };
        earlier.AddRange(new byte[Logs]);
        var (earlierStatus, earlierMessage) = await ProblemAsync(client, System.Buffers.Text.Base64Url.EncodeToString(earlier.ToArray()));
        Assert.Equal(HttpStatusCode.Gone, earlierStatus);
        Assert.Contains("format", earlierMessage, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_bad_last_event_id_is_a_400_naming_the_header()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        await NoStreamsOpenAsync();
        var (status, message) = await ProblemAsync(client, null, lastEventId: "garbage");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("Last-Event-ID", message, StringComparison.Ordinal);
        Assert.DoesNotContain("after", message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_stream_event_carries_the_same_json_as_the_page_entry()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        await Wire.VisitAsync(_http, client, thirdPartyId: "json-1", parameters: new Dictionary<string, string> { ["city"] = "Köln", ["q"] = "<a href='x'>&</a>" });
        using var page = await _http.GetAsync($"/rest/v1/changes?client={client}");
        using var body = JsonDocument.Parse(await page.Content.ReadAsStringAsync());
        var pageJson = Assert.Single(body.RootElement.GetProperty("changes").EnumerateArray()).GetRawText();
        await NoStreamsOpenAsync();
        using var stream = await SseReader.OpenAsync(_http, $"/rest/v1/changes?client={client}");
        var data = (await stream.NextEventAsync()).Data;
        Assert.Equal(pageJson, data);
        Assert.Contains("Köln", data, StringComparison.Ordinal);
        Assert.Contains("+00:00", data, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Every_entry_of_a_profile_names_it_by_the_tntId_the_read_api_shows_whatever_form_the_write_gave()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var tntBase = $"{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}-{Random.Shared.Next(100_000, 999_999)}";
        var first = $"{tntBase}.01_00";
        Assert.Equal(first, await Wire.VisitAsync(_http, client, tntId: first, parameters: new Dictionary<string, string> { ["a"] = "0" })); // created
        await UpdateAsync(client, $"mboxPC={tntBase}&profile.a=1");                                                  // without a location hint
        await UpdateAsync(client, $"mboxPC={tntBase}.99_9&profile.a=2");                                             // another hint
        await Wire.VisitAsync(_http, client, tntId: $"{tntBase}.7_7", parameters: new Dictionary<string, string> { ["a"] = "3" });
        await BatchAsync(client, "profile/batchUpdate", $"batch=pcId,a\n{tntBase}.5_5,4\n");                       // bulk v1
        await BatchAsync(client, "v2/profile/batchUpdate", $"batch=pcId,a\n{tntBase},5\n");                        // bulk v2
        var profile = await Wire.ReadByTntAsync(_http, client, $"{tntBase}.3_3");
        Assert.Equal(first, profile!.Value.GetProperty("tntId").GetString());
        using (var deleted = await _http.DeleteAsync($"/rest/v1/profiles/{tntBase}?client={client}"))
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        var (changes, _) = await PullAsync(client);
        Assert.Equal(["created a=0", "updated a=1", "updated a=2", "updated a=3", "updated a=4", "updated a=5", "deleted "],
            changes.Select(c => $"{c.GetProperty("kind").GetString()} {Set(c)}").ToArray());
        // One name for the profile throughout, the read API's: a consumer drops what it holds under the name it was given.
        Assert.All(changes, c => Assert.Equal(first, c.GetProperty("tntId").GetString()));
    }

    [SkippableFact]
    public async Task A_removal_that_finds_nothing_to_remove_has_no_entry_on_any_write_path()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        await Wire.VisitAsync(_http, client, thirdPartyId: "r-1", parameters: new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" }); // created
        // Removing attributes the profile does not have applies (a no-op) and changes nothing: no entry.
        await UpdateAsync(client, "mbox3rdPartyId=r-1&profile.zz=&emptyValues=remove");
        await UpdateAsync(client, "mbox3rdPartyId=r-1&profile.zz=&profile.yy=&emptyValues=remove");
        // One of the names there: an entry, listing the names as sent.
        await UpdateAsync(client, "mbox3rdPartyId=r-1&profile.zz=&profile.a=&emptyValues=remove");
        // A write that sets something is an entry whatever its removals found.
        await UpdateAsync(client, "mbox3rdPartyId=r-1&profile.c=3&profile.zz=&emptyValues=remove");
        // The batch paths too: v1 rows, and v2 rows (which take apply.lua for their removals).
        await BatchAsync(client, "profile/batchUpdate?emptyValues=remove", "batch=thirdPartyId,zz\nr-1,\n");
        await BatchAsync(client, "v2/profile/batchUpdate?emptyValues=remove", "batch=thirdPartyId,zz\nr-1,\n");
        await BatchAsync(client, "v2/profile/batchUpdate?emptyValues=remove", "batch=thirdPartyId,b,zz\nr-1,,\n");
        // Again after everything was removed: still nothing.
        await UpdateAsync(client, "mbox3rdPartyId=r-1&profile.a=&profile.b=&emptyValues=remove");

        var (changes, _) = await PullAsync(client);
        Assert.Equal(["created a=1,b=2 ", "updated  zz,a", "updated c=3 zz", "updated  b,zz"],
            changes.Select(c => $"{c.GetProperty("kind").GetString()} {Set(c)} {Removed(c)}").ToArray());
        var profile = await Wire.ReadByThirdPartyAsync(_http, client, "r-1");
        Assert.Null(Wire.Attribute(profile!.Value, "a"));
        Assert.Equal("3", Wire.Attribute(profile.Value, "c"));
    }

    [SkippableFact]
    public async Task No_gap_between_two_writes_of_an_idle_stream_exceeds_the_heartbeat_interval()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        await NoStreamsOpenAsync();
        using var stream = await SseReader.OpenAsync(_http, $"/rest/v1/changes?client={client}");
        // HeartbeatInterval 1.5 s, PollInterval 1 s: a heartbeat looked at only after each poll's wait came every 2 s.
        var (gaps, ended) = await stream.GapsAsync(TimeSpan.FromSeconds(8));
        Assert.False(ended, "the stream ended");
        Assert.True(gaps.Count >= 4, $"only {gaps.Count} writes in 8 s");
        AssertWithinHeartbeat(gaps);
    }

    /// <summary>
    /// The server aims every gap at a tenth under HeartbeatInterval (1.5 s here: 1.35 s). The gaps are measured by the
    /// test's own reads, which a CI machine running other test classes can hold up, so the bounds leave room for that:
    /// none more than 1 s over the interval, and at least a third of them within 0.2 s of it. A heartbeat looked at only
    /// after each 1 s poll shows as 2 s gaps, every one, which fails the second bound. (It asked for more than half until
    /// a full CI run on two loaded cores measured 1350, 1349, 1354, 1899, 2008, 2003 ms: three late timers in a row, not
    /// that defect, whose gaps are never under 2 s.)
    /// </summary>
    internal static void AssertWithinHeartbeat(IReadOnlyList<TimeSpan> gaps)
    {
        var shown = $"gaps between writes: {string.Join(", ", gaps.Select(g => $"{g.TotalMilliseconds:0}"))} ms";
        Assert.True(gaps.Count > 0 && gaps.Max() <= HeartbeatInterval + TimeSpan.FromSeconds(1), shown);
        Assert.True(gaps.Count(g => g <= HeartbeatInterval + TimeSpan.FromMilliseconds(200)) * 3 >= gaps.Count, shown);
    }

    internal static readonly TimeSpan HeartbeatInterval = TimeSpan.Parse(ChangeFeedOnRedisFixture.Settings["ProfileUpdate:Changes:HeartbeatInterval"]!, System.Globalization.CultureInfo.InvariantCulture);

    [SkippableFact]
    public async Task Each_client_sees_only_its_own_changes()
    {
        SkipWithoutStore();
        var (a, b) = (Wire.NewClient(), Wire.NewClient());
        await Wire.VisitAsync(_http, a, thirdPartyId: "same", parameters: new Dictionary<string, string> { ["owner"] = "a" });
        await Wire.VisitAsync(_http, b, thirdPartyId: "same", parameters: new Dictionary<string, string> { ["owner"] = "b" });
        await UpdateAsync(b, "mbox3rdPartyId=same&profile.x=1");
        var (ofA, _) = await PullAsync(a);
        var (ofB, nextB) = await PullAsync(b);
        Assert.Equal(["owner=a"], ofA.Select(Set).ToArray());
        Assert.Equal(["owner=b", "x=1"], ofB.Select(Set).ToArray());
        // A cursor of one client's log read on another's addresses a position that log does not have (yet): 410 or empty,
        // never the other client's entries.
        using var crossed = await _http.GetAsync($"/rest/v1/changes?client={a}&after={nextB}");
        if (crossed.StatusCode == HttpStatusCode.OK)
            Assert.DoesNotContain("owner=b", await crossed.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        else Assert.Equal(HttpStatusCode.Gone, crossed.StatusCode);
    }

    [SkippableFact]
    public async Task Server_sent_events_deliver_within_a_second_resume_from_last_event_id_and_keep_alive()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        await Wire.VisitAsync(_http, client, thirdPartyId: "s-1", parameters: new Dictionary<string, string> { ["n"] = "0" });
        await NoStreamsOpenAsync();
        string lastId;
        using (var stream = await SseReader.OpenAsync(_http, $"/rest/v1/changes?client={client}"))
        {
            Assert.Equal("text/event-stream", stream.ContentType);
            var first = await stream.NextEventAsync();
            Assert.Equal("created", first.Event);
            Assert.Equal(first.Id, JsonDocument.Parse(first.Data).RootElement.GetProperty("id").GetString());
            for (var i = 1; i <= 3; i++)
            {
                var sent = Stopwatch.StartNew();
                await UpdateAsync(client, $"mbox3rdPartyId=s-1&profile.n={i}");
                var e = await stream.NextEventAsync();
                Assert.True(sent.Elapsed < TimeSpan.FromSeconds(1), $"change {i} reached the stream after {sent.Elapsed.TotalMilliseconds:0} ms");
                Assert.Equal("updated", e.Event);
                Assert.Equal($"n={i}", Set(JsonDocument.Parse(e.Data).RootElement));
            }
            lastId = (await stream.LastIdAsync())!;
            // Idle: a comment line at least every HeartbeatInterval (1.5 s here).
            Assert.True(await stream.CommentWithinAsync(TimeSpan.FromSeconds(5)), "no heartbeat comment on an idle stream");
        }

        // Changes made while disconnected arrive after a reconnect with Last-Event-ID, nothing twice, nothing missing.
        await UpdateAsync(client, "mbox3rdPartyId=s-1&profile.n=4");
        await UpdateAsync(client, "mbox3rdPartyId=s-1&profile.n=5");
        await NoStreamsOpenAsync();
        using (var resumed = await SseReader.OpenAsync(_http, $"/rest/v1/changes?client={client}", lastId))
        {
            Assert.Equal("n=4", Set(JsonDocument.Parse((await resumed.NextEventAsync()).Data).RootElement));
            Assert.Equal("n=5", Set(JsonDocument.Parse((await resumed.NextEventAsync()).Data).RootElement));
        }
        // after= works for a stream as for a page.
        await NoStreamsOpenAsync();
        using (var fromAfter = await SseReader.OpenAsync(_http, $"/rest/v1/changes?client={client}&after={lastId}"))
            Assert.Equal("n=4", Set(JsonDocument.Parse((await fromAfter.NextEventAsync()).Data).RootElement));
    }

    [SkippableFact]
    public async Task Streams_beyond_the_instance_limit_get_503_with_retry_after()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var streams = fixture.Services.GetRequiredService<ChangeStreams>();
        await NoStreamsOpenAsync();
        using var one = await SseReader.OpenAsync(_http, $"/rest/v1/changes?client={client}");
        using var two = await SseReader.OpenAsync(_http, $"/rest/v1/changes?client={client}");
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"/rest/v1/changes?client={client}"))
        {
            request.Headers.Accept.ParseAdd("text/event-stream");
            using var third = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, third.StatusCode);
            Assert.NotNull(third.Headers.RetryAfter);
            Assert.Contains("MaxStreams", await Wire.ProblemMessageAsync(third), StringComparison.Ordinal);
        }
        // Pages are not streams: still served.
        await PullAsync(client);
        one.Dispose();
        await Eventually.WaitUntilAsync(() => Task.FromResult(streams.Open < 2), TimeSpan.FromSeconds(10), "the closed stream's slot to free");
        using var again = await SseReader.OpenAsync(_http, $"/rest/v1/changes?client={client}");
    }

    [SkippableFact]
    public async Task A_reader_that_does_not_read_is_cut_off_with_an_event_and_resumes_from_its_last_id()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var streams = fixture.Services.GetRequiredService<ChangeStreams>();
        await Wire.VisitAsync(_http, client, thirdPartyId: "slow-0");
        await NoStreamsOpenAsync();
        using var stalled = await SseReader.OpenAsync(_http, $"/rest/v1/changes?client={client}");
        var cutOffs = streams.CutOffs;

        // Far more than the connection's buffers hold (Kestrel's, both sockets'): ~25 MB of entries, never read.
        var value = new string('v', 250);
        var rows = new StringBuilder("batch=thirdPartyId,a,b,c,d,e,f,g,h,i,j\n");
        for (var i = 0; i < 10_000; i++) rows.Append("slow-").Append(i).Append(string.Concat(Enumerable.Repeat("," + value, 10))).Append('\n');
        await BatchAsync(client, "v2/profile/batchUpdate", rows.ToString());

        // SlowReaderTimeout (3 s here) after the connection's buffers filled up, the server judges the reader slow; when
        // the reader then takes what was queued, the last event is the cut-off, and the stream ends.
        await Eventually.WaitUntilAsync(() => Task.FromResult(streams.CutOffs > cutOffs), TimeSpan.FromSeconds(60), "the stalled stream to be judged slow");
        var events = await stalled.ReadToEndAsync();
        Assert.Equal("cut-off", events[^1].Event);
        // The documented shape, {"message":…}: the .NET client reads that property to report why the stream ended.
        using (var notice = JsonDocument.Parse(events[^1].Data))
            Assert.Contains("Last-Event-ID", notice.RootElement.GetProperty("message").GetString()!, StringComparison.Ordinal);
        var lastId = events.Last(e => e.Id is not null).Id!;
        Assert.True(events.Count(e => e.Id is not null) < 10_001, "the whole log went through: the reader was never slow");

        // It resumes where it stopped: the next entry is the one after the last it received.
        var (all, _) = await PullAsync(client, limit: 1000);
        var (after, _) = await PullAsync(client, lastId, limit: 1);
        await NoStreamsOpenAsync();
        using var resumed = await SseReader.OpenAsync(_http, $"/rest/v1/changes?client={client}", lastId);
        var next = await resumed.NextEventAsync();
        Assert.Equal(Assert.Single(after).GetProperty("id").GetString(), next.Id);
        Assert.NotEmpty(all);
    }
}

/// <summary>A minimal Server-Sent Events reader over HttpClient (the format of the HTML standard, §9.2).</summary>
public sealed class SseReader : IDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;
    private string? _lastId;

    private SseReader(HttpResponseMessage response, Stream body)
    {
        _response = response;
        _reader = new StreamReader(body, Encoding.UTF8);
    }

    public sealed record SseEvent(string? Id, string Event, string Data);

    public string? ContentType => _response.Content.Headers.ContentType?.MediaType;

    public static async Task<SseReader> OpenAsync(HttpClient http, string url, string? lastEventId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.Accept.ParseAdd("text/event-stream");
        if (lastEventId is not null) request.Headers.Add("Last-Event-ID", lastEventId);
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode != HttpStatusCode.OK) Assert.Fail($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return new SseReader(response, await response.Content.ReadAsStreamAsync());
    }

    /// <summary>The next event (comments and the retry field skipped), within 10 s.</summary>
    public async Task<SseEvent> NextEventAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var (block, ended) = await ReadBlockAsync(timeout.Token);
            if (block is { } ev) return ev;
            Assert.False(ended, "the stream ended");
        }
    }

    public Task<string?> LastIdAsync() => Task.FromResult(_lastId);

    /// <summary>True when a comment line arrives within <paramref name="deadline"/> (events before it are skipped).</summary>
    public async Task<bool> CommentWithinAsync(TimeSpan deadline)
    {
        using var timeout = new CancellationTokenSource(deadline);
        try
        {
            while (true)
            {
                var line = await _reader.ReadLineAsync(timeout.Token);
                if (line is null) return false;
                if (line.StartsWith(':')) return true;
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>
    /// The times between consecutive writes of the server (each block: an event or a comment) during
    /// <paramref name="duration"/>, from the arrival of the first block on.
    /// </summary>
    /// <returns>The gaps, and whether the server ended the stream within the time.</returns>
    /// <remarks>
    /// Stops at the first block after <paramref name="duration"/> rather than cancelling a read (which would close the
    /// connection, and the stream could not be read on); a stream silent for 10 s more counts as a gap that long.
    /// </remarks>
    public async Task<(List<TimeSpan> Gaps, bool Ended)> GapsAsync(TimeSpan duration)
    {
        var total = Stopwatch.StartNew();
        using var timeout = new CancellationTokenSource(duration + TimeSpan.FromSeconds(10));
        var gaps = new List<TimeSpan>();
        Stopwatch? since = null;
        try
        {
            while (true)
            {
                var line = await _reader.ReadLineAsync(timeout.Token);
                if (line is null) return (gaps, true);
                if (line.Length > 0) continue; // a block ends with its empty line
                if (since is not null) gaps.Add(since.Elapsed);
                since = Stopwatch.StartNew();
                if (total.Elapsed >= duration) return (gaps, false);
            }
        }
        catch (OperationCanceledException)
        {
            gaps.Add(since?.Elapsed ?? total.Elapsed);
            return (gaps, false);
        }
        catch (HttpIOException)
        {
            return (gaps, true); // the server broke the response off (a failure after the headers were sent)
        }
    }

    /// <summary>Every event until the server ends the stream.</summary>
    public async Task<List<SseEvent>> ReadToEndAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var events = new List<SseEvent>();
        while (true)
        {
            var (block, ended) = await ReadBlockAsync(timeout.Token);
            if (block is not null) events.Add(block);
            if (ended) return events;
        }
    }

    private async Task<(SseEvent? Block, bool Ended)> ReadBlockAsync(CancellationToken cancellationToken)
    {
        string? id = null, name = null;
        var data = new StringBuilder();
        var any = false;
        while (true)
        {
            var line = await _reader.ReadLineAsync(cancellationToken);
            if (line is null) return (any && name is not null ? new SseEvent(id, name, data.ToString()) : null, true);
            if (line.Length == 0)
            {
                if (name is null && data.Length == 0) { if (any) return (null, false); continue; }
                if (id is not null) _lastId = id;
                return (new SseEvent(id, name ?? "message", data.ToString()), false);
            }
            any = true;
            if (line.StartsWith(':')) continue;
            if (line.StartsWith("id: ", StringComparison.Ordinal)) id = line[4..];
            else if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line[7..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal)) data.Append(line[6..]);
        }
    }

    public void Dispose()
    {
        _reader.Dispose();
        _response.Dispose();
    }
}

public sealed class ChangeFeedOnRedisFixture() : StoreServiceFixture(StoreKind.Redis, Settings)
{
    internal static readonly Dictionary<string, string?> Settings = new()
    {
        ["ProfileUpdate:Changes:Enabled"] = "true",
        ["ProfileUpdate:Changes:MaxEntriesPerClient"] = ChangeFeedContract.Cap.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["ProfileUpdate:Changes:MaxStreams"] = "2",
        // Not a multiple of PollInterval: a heartbeat sent only between polls shows as a gap longer than this.
        ["ProfileUpdate:Changes:HeartbeatInterval"] = "00:00:01.500",
        ["ProfileUpdate:Changes:SlowReaderTimeout"] = "00:00:03",
        // The longest poll allowed: a change written through the instance must reach its streams without a poll.
        ["ProfileUpdate:Changes:PollInterval"] = "00:00:01",
    };
}

public sealed class ChangeFeedOnEmbeddedFixture() : StoreServiceFixture(StoreKind.Embedded, ChangeFeedOnRedisFixture.Settings);

public sealed class ChangeFeedOnRedis(ChangeFeedOnRedisFixture fixture) : ChangeFeedContract(fixture), IClassFixture<ChangeFeedOnRedisFixture>;

public sealed class ChangeFeedOnEmbeddedStore(ChangeFeedOnEmbeddedFixture fixture) : ChangeFeedContract(fixture), IClassFixture<ChangeFeedOnEmbeddedFixture>;

public sealed class ChangeFeedOnClusterFixture() : StoreServiceFixture(StoreKind.Cluster, ChangeFeedOnRedisFixture.Settings);

/// <summary>On Redis Cluster a client has one log per partition, each in the slot of its partition's profiles.</summary>
public sealed class ChangeFeedOnCluster(ChangeFeedOnClusterFixture fixture) : ChangeFeedContract(fixture), IClassFixture<ChangeFeedOnClusterFixture>;
