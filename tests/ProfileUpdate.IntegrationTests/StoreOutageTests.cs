using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Store;
using ProfileUpdate.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace ProfileUpdate.IntegrationTests;

/// <summary>Redis goes away under the service and comes back: honest 503s fast, recovery without a restart, nothing acknowledged lost.</summary>
public sealed class StoreOutageTests : IDisposable
{
    /// <summary>Generous bound on waits for the service or Redis to get somewhere; only a broken test waits this long.</summary>
    private static readonly TimeSpan RecoveryDeadline = TimeSpan.FromSeconds(30);

    /// <summary>How long Redis holds writes where a test pauses it; lifted early once the test has what it needs.</summary>
    private static readonly TimeSpan HeldWrites = TimeSpan.FromSeconds(30);

    private readonly RedisServer _redis = new(persistent: true);
    private readonly object _slowestLock = new();
    private readonly ServiceFactory? _factory;
    private readonly HttpClient? _http;

    public StoreOutageTests()
    {
        if (!RedisServer.IsAvailable) return;
        _factory = new ServiceFactory(_redis.ConnectionString);
        _http = _factory.CreateHttpClient();
    }

    public void Dispose()
    {
        _http?.Dispose();
        _factory?.Dispose();
        _redis.Dispose();
    }

    [SkippableFact]
    public async Task A_remembered_link_whose_profile_the_store_lost_does_not_cost_an_update_after_the_visitor_returns()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        var http = _http!;
        var client = Wire.NewClient();
        var id = Wire.NewId();
        await Wire.VisitAsync(http, client, thirdPartyId: id);
        using (var first = await http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId={id}&profile.a=1"))
            Assert.Equal("applied", first.Headers.GetValues("X-Profile-Update").Single()); // the link is now remembered

        // The store loses everything, then the visitor comes back and is linked to a brand-new profile.
        using (var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString + ",allowAdmin=true"))
            await admin.GetServers()[0].FlushAllDatabasesAsync();
        var newTnt = await Wire.VisitAsync(http, client, thirdPartyId: id);

        // The remembered link pointed at the lost profile; the visit replaced it, and had it not (a visit through another
        // instance), the applier looks a link whose profile is gone up again before answering (ProfileDeleteContract):
        // either way no update after the visit is lost.
        foreach (var (name, value) in new[] { ("b", "2"), ("c", "3") })
        {
            using var update = await http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId={id}&profile.{name}={value}");
            Assert.Equal(HttpStatusCode.OK, update.StatusCode);
            Assert.Equal("applied", update.Headers.GetValues("X-Profile-Update").Single());
        }
        var profile = await Wire.ReadByThirdPartyAsync(http, client, id);
        Assert.Equal(newTnt, profile!.Value.GetProperty("tntId").GetString());
        Assert.Equal("2", Wire.Attribute(profile.Value, "b"));
        Assert.Equal("3", Wire.Attribute(profile.Value, "c"));
    }

    [SkippableFact]
    public async Task Redis_down_answers_503_with_retry_after_within_2s_then_recovers_by_itself()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        var http = _http!;
        var (client, id) = await VisitorUpdatedOnceAsync(http);

        _redis.Stop();
        for (var i = 0; i < 5; i++)
        {
            var watch = Stopwatch.StartNew();
            using var during = await http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId={id}&profile.phase=during{i}");
            watch.Stop();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, during.StatusCode);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"503 took {watch.Elapsed.TotalMilliseconds:0} ms");
            Assert.True(during.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
            Assert.Contains("unavailable", await Wire.ProblemMessageAsync(during), StringComparison.OrdinalIgnoreCase);
        }
        using (var ready = await http.GetAsync("/health/ready")) Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);

        // Under load while down: only 503s, each within 2 s.
        var slowest = TimeSpan.Zero;
        var statuses = await Task.WhenAll(Enumerable.Range(0, 16).Select(async w =>
        {
            var seen = new List<HttpStatusCode>();
            var until = Stopwatch.StartNew();
            for (var i = 0; until.Elapsed < TimeSpan.FromSeconds(3); i++)
            {
                var one = Stopwatch.StartNew();
                using var r = await http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId={id}&profile.w{w}=x{i}");
                one.Stop();
                lock (_slowestLock) if (one.Elapsed > slowest) slowest = one.Elapsed;
                seen.Add(r.StatusCode);
            }
            return seen;
        }));
        Assert.All(statuses.SelectMany(s => s), s => Assert.Equal(HttpStatusCode.ServiceUnavailable, s));
        Assert.True(slowest < TimeSpan.FromSeconds(2), $"slowest 503 took {slowest.TotalMilliseconds:0} ms");

        _redis.Start();
        var status = HttpStatusCode.ServiceUnavailable;
        await Eventually.TryWaitUntilAsync(async () =>
        {
            using var after = await http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId={id}&profile.phase=after");
            status = after.StatusCode;
            return status == HttpStatusCode.OK;
        }, RecoveryDeadline, poll: TimeSpan.FromMilliseconds(100));
        Assert.Equal(HttpStatusCode.OK, status);

        var profile = (await Wire.ReadByThirdPartyAsync(http, client, id))!.Value;
        Assert.Equal("after", Wire.Attribute(profile, "phase"));
        using (var ready = await http.GetAsync("/health/ready")) Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [SkippableFact]
    public async Task An_update_sent_while_the_store_connection_is_being_reopened_waits_for_it_instead_of_failing()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        var http = _http!;
        var (client, id) = await VisitorUpdatedOnceAsync(http);

        // A restart (or failover) that is over by the time the update arrives, while the client has not re-opened its
        // connection yet (it retries on its heartbeat): the update is sent in that gap.
        var multiplexer = _factory!.Services.GetRequiredService<StoreConnections>().Multiplexer;
        _redis.Stop();
        // Polled tightly: the gap between noticing the loss and re-opening is what the update has to be sent in.
        await Eventually.TryWaitUntilAsync(() => Task.FromResult(!multiplexer.IsConnected), RecoveryDeadline, poll: TimeSpan.FromMilliseconds(5));
        Assert.False(multiplexer.IsConnected, "the service never saw its store connection down");
        _redis.Start();
        Assert.False(multiplexer.IsConnected, "reconnected before the update could be sent in the gap; the test proves nothing");

        var sent = Stopwatch.StartNew();
        using (var during = await http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId={id}&profile.phase=reconnect"))
        {
            Assert.True(during.StatusCode == HttpStatusCode.OK,
                $"{(int)during.StatusCode} after {sent.ElapsedMilliseconds} ms: {await during.Content.ReadAsStringAsync()}");
        }
        var profile = (await Wire.ReadByThirdPartyAsync(http, client, id))!.Value;
        Assert.Equal("reconnect", Wire.Attribute(profile, "phase"));
    }

    [SkippableFact]
    public async Task A_read_whose_connection_comes_back_after_the_write_connection_waits_for_it()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        var http = _http!;
        var (client, id) = await VisitorUpdatedOnceAsync(http);
        Assert.Equal("before", Wire.Attribute((await Wire.ReadByThirdPartyAsync(http, client, id))!.Value, "phase"));

        // After an outage the two connections re-open on their own retry schedules. To hold the read connection back
        // on purpose, Redis refuses new connections (open ones stay) and the read connection is cut.
        using var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString + ",allowAdmin=true");
        var server = admin.GetServers()[0];
        await server.ConfigSetAsync("maxclients", "1");
        try
        {
            foreach (var reads in (await server.ClientListAsync()).Where(IsReadConnection))
                await admin.GetDatabase().ExecuteAsync("CLIENT", "KILL", "ID", reads.Id);
            var sinceCut = Stopwatch.StartNew();

            // While it cannot come back, a read gets its 503 after the grace (1.5 s), and updates go on.
            var watch = Stopwatch.StartNew();
            using (var during = await http.GetAsync($"/rest/v1/profiles/thirdPartyId/{id}?client={client}"))
            {
                watch.Stop();
                Assert.Equal(HttpStatusCode.ServiceUnavailable, during.StatusCode);
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"503 took {watch.Elapsed.TotalMilliseconds:0} ms");
            }
            using (var update = await http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId={id}&profile.phase=after"))
                Assert.Equal(HttpStatusCode.OK, update.StatusCode);
            // The read below must come well past the grace since the read connection was lost, while it is still out.
            var grace = _factory!.Services.GetRequiredService<IOptions<ProfileUpdateOptions>>().Value.Store.ReconnectGrace;
            await Eventually.WaitUntilAsync(
                async () => sinceCut.Elapsed > grace + TimeSpan.FromMilliseconds(500) && !(await server.ClientListAsync()).Any(IsReadConnection),
                RecoveryDeadline, "the read connection to stay out for longer than the reconnect grace");
        }
        finally
        {
            await server.ConfigSetAsync("maxclients", "10000");
        }

        // Redis takes connections again; the read connection is re-opened on its next retry, a few hundred ms away. A
        // read sent now waits for it: the write connection is up, so the store answers.
        var profile = await Wire.ReadByThirdPartyAsync(http, client, id); // asserts 200 or 404
        Assert.Equal("after", Wire.Attribute(profile!.Value, "phase"));
    }

    /// <summary>
    /// Runs <paramref name="read"/> while Redis holds writes (as during a failover's pause) and an update is stuck waiting
    /// for its script: a read on the same connection would queue behind it until it timed out. Returns how long it took.
    /// </summary>
    private async Task<TimeSpan> ReadWhileAWriteIsHeldAsync(HttpClient http, string client, string id, Func<Task> read)
    {
        using var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString + ",allowAdmin=true");
        // The pause is far longer than the read may take, so a read that queued behind the held update could not pass;
        // the finally block ends it as soon as the read is done.
        await admin.GetDatabase().ExecuteAsync("CLIENT", "PAUSE", HeldWrites.TotalMilliseconds.ToString(CultureInfo.InvariantCulture), "WRITE");
        try
        {
            var stuck = http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId={id}&profile.phase=stuck");
            await Eventually.WaitUntilAsync(async () => await HoldsAWriteAsync(admin), RecoveryDeadline,
                "the stuck update's script to be held by Redis before the read is sent");

            var watch = Stopwatch.StartNew();
            await read();
            watch.Stop();
            (await stuck).Dispose(); // 503 at the request timeout: the pause outlasts it
            return watch.Elapsed;
        }
        finally
        {
            await admin.GetDatabase().ExecuteAsync("CLIENT", "UNPAUSE");
        }
    }

    [SkippableFact]
    public async Task Profile_reads_keep_answering_while_the_store_holds_writes()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        var http = _http!;
        var (client, id) = await VisitorUpdatedOnceAsync(http);

        JsonElement? profile = null;
        var took = await ReadWhileAWriteIsHeldAsync(http, client, id, async () => profile = await Wire.ReadByThirdPartyAsync(http, client, id)); // asserts 200 or 404
        Assert.True(took < HeldWrites / 3, $"the read took {took.TotalMilliseconds:0} ms");
        Assert.Equal("before", Wire.Attribute(profile!.Value, "phase"));
    }

    [SkippableFact]
    public async Task Batch_status_reads_keep_answering_while_the_store_holds_writes()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        var http = _http!;
        var (client, id) = await VisitorUpdatedOnceAsync(http);
        string statusUrl;
        using (var submitted = await Wire.PostBatchAndWaitAsync(http, $"/m2/{client}/v2/profile/batchUpdate", new StringContent($"batch=thirdPartyId,a\n{id},1\n")))
        {
            Assert.Equal(HttpStatusCode.OK, submitted.StatusCode);
            statusUrl = System.Xml.Linq.XElement.Parse(await submitted.Content.ReadAsStringAsync()).Element("batchStatus")!.Value;
        }

        var (status, body) = (HttpStatusCode.OK, "");
        var took = await ReadWhileAWriteIsHeldAsync(http, client, id, async () =>
        {
            using var response = await http.GetAsync(statusUrl);
            (status, body) = (response.StatusCode, await response.Content.ReadAsStringAsync());
        });
        Assert.True(status == HttpStatusCode.OK, $"{(int)status}: {body}");
        Assert.Contains("<status>complete</status>", body, StringComparison.Ordinal);
        Assert.True(took < HeldWrites / 3, $"the status read took {took.TotalMilliseconds:0} ms");
    }

    [SkippableFact]
    public async Task A_store_that_stalls_gets_a_503_at_the_request_timeout_and_the_update_still_lands_afterwards()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        using var factory = new ServiceFactory(_redis.ConnectionString, new Dictionary<string, string?>
        {
            ["ProfileUpdate:Applier:RequestTimeout"] = "00:00:00.300",
            ["ProfileUpdate:Store:ReconnectGrace"] = "00:00:00.100",
        });
        using var http = factory.CreateHttpClient();
        var (client, id) = await VisitorUpdatedOnceAsync(http);

        // Redis holds every write (scripts included) but stays connected: no error, just no answer. The hold is far longer
        // than the timeout, so only the timeout can explain a 503; it is lifted below once the 503 is in.
        using var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString + ",allowAdmin=true");
        await admin.GetDatabase().ExecuteAsync("CLIENT", "PAUSE", HeldWrites.TotalMilliseconds.ToString(CultureInfo.InvariantCulture), "WRITE");
        var watch = Stopwatch.StartNew();
        using (var stalled = await http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId={id}&profile.phase=stalled"))
        {
            watch.Stop();
            Assert.Equal(HttpStatusCode.ServiceUnavailable, stalled.StatusCode);
            Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(250), $"503 after {watch.Elapsed.TotalMilliseconds:0} ms: before the timeout");
            Assert.True(watch.Elapsed < HeldWrites / 3, $"503 after {watch.Elapsed.TotalMilliseconds:0} ms: the timeout did not hold");
            Assert.True(stalled.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1));
            Assert.Contains("in time", await Wire.ProblemMessageAsync(stalled), StringComparison.Ordinal);
        }

        // Not acknowledged, but not dropped either: it stays queued and lands once Redis answers. Reads answer all
        // along (their own connection), showing the last stored value until then.
        Assert.Equal("before", Wire.Attribute((await Wire.ReadByThirdPartyAsync(http, client, id))!.Value, "phase"));
        await admin.GetDatabase().ExecuteAsync("CLIENT", "UNPAUSE");
        string? phase = null;
        await Eventually.TryWaitUntilAsync(async () =>
        {
            phase = Wire.Attribute((await Wire.ReadByThirdPartyAsync(http, client, id))!.Value, "phase");
            return phase == "stalled";
        }, RecoveryDeadline, poll: TimeSpan.FromMilliseconds(100));
        Assert.Equal("stalled", phase);

        // Each request counted once by its answer: the first applied, the stalled one as the timeout it got. What the
        // applier did with the stalled one afterwards has a counter of its own (applied here, or store_unavailable had
        // the connection given up on the held script before Redis ran it).
        var late = await CountsAsync(http, "profileupdate_updates_after_timeout_total", client);
        Assert.Equal(new Dictionary<string, long> { ["applied"] = 1, ["timeout"] = 1 }, await CountsAsync(http, "profileupdate_updates_total", client));
        Assert.Equal(1, late.Values.Sum());
    }

    /// <summary>A counter's values for one client by outcome, once the exporter shows the counter for that client.</summary>
    private static async Task<Dictionary<string, long>> CountsAsync(HttpClient http, string counter, string client)
    {
        var line = new System.Text.RegularExpressions.Regex(
            $"(?m)^{counter}{{[^}}]*client=\"{client}\",outcome=\"([a-z_]+)\"}} (\\d+)$");
        var counts = new Dictionary<string, long>();
        // The exporter caches a scrape for a short while: poll until the client shows up.
        await Eventually.TryWaitUntilAsync(async () =>
        {
            counts = line.Matches(await http.GetStringAsync("/metrics"))
                .ToDictionary(m => m.Groups[1].Value, m => long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture));
            return counts.Count > 0;
        }, RecoveryDeadline, poll: TimeSpan.FromMilliseconds(200));
        return counts;
    }

    private static bool IsReadConnection(ClientInfo client) => client.Name?.EndsWith("-reads", StringComparison.Ordinal) == true;

    /// <summary>Whether Redis holds some client's command back (CLIENT PAUSE shows it as blocked).</summary>
    private static async Task<bool> HoldsAWriteAsync(ConnectionMultiplexer admin) =>
        (await admin.GetServers()[0].ClientListAsync()).Any(c => c.Flags.HasFlag(ClientFlags.Blocked));

    /// <summary>A new client and visitor whose first update (phase=before) was stored while the store was healthy.</summary>
    private static async Task<(string Client, string Id)> VisitorUpdatedOnceAsync(HttpClient http)
    {
        var client = Wire.NewClient();
        var id = Wire.NewId();
        await Wire.VisitAsync(http, client, thirdPartyId: id);
        using (var before = await http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId={id}&profile.phase=before"))
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        return (client, id);
    }
}
