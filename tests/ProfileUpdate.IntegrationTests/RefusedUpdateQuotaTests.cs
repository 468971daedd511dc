using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ProfileUpdate.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// The RateLimit header of a refused single update (4xx) comes from what the instance already knows — the latest quota
/// decision it saw for the client, when recent — and otherwise from a look at the store bounded by Quota:PeekTimeout:
/// an invalid request neither waits on a slow store nor costs a store call each. Script calls are counted by Redis
/// itself (INFO commandstats); a held store is Redis under CLIENT PAUSE WRITE, which holds every script.
/// </summary>
public sealed class RefusedUpdateQuotaTests : IDisposable
{
    /// <summary>How long Redis holds writes where a test pauses it; lifted as soon as the test is done.</summary>
    private static readonly TimeSpan HeldWrites = TimeSpan.FromSeconds(30);

    private readonly RedisServer _redis = new();

    public void Dispose() => _redis.Dispose();

    [SkippableFact]
    public async Task A_400_answers_at_once_while_the_store_is_paused_and_leaves_the_header_off()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        await using var factory = new ServiceFactory(_redis.ConnectionString);
        using var http = factory.CreateHttpClient();
        var client = Wire.NewClient(); // no decision known for it: the quota must be looked up
        using var admin = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString + ",allowAdmin=true");

        await PauseWritesAsync(admin);
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var watch = Stopwatch.StartNew();
                using var bad = await http.GetAsync($"/m2/{client}/profile/update?profile.a=1");
                watch.Stop();
                Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
                // The bound is 250 ms; the store's own timeout (1.5 s) is what a 400 used to wait.
                Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"400 {i} after {watch.Elapsed.TotalMilliseconds:0} ms");
                Assert.Equal("\"updates\";q=1000000;w=86400", Assert.Single(bad.Headers.GetValues("RateLimit-Policy")));
                Assert.False(bad.Headers.Contains("RateLimit"), "the store could not say within the bound");
            }
        }
        finally
        {
            await admin.GetDatabase().ExecuteAsync("CLIENT", "UNPAUSE");
        }

        // The store answers again: the next refusal has the header once more.
        await Eventually.WaitUntilAsync(async () =>
        {
            using var bad = await http.GetAsync($"/m2/{client}/profile/update?profile.a=1");
            return bad.Headers.Contains("RateLimit");
        }, TimeSpan.FromSeconds(30), "a 400 with the RateLimit header after the store came back");
    }

    [SkippableFact]
    public async Task After_an_update_a_400_carries_its_quota_without_a_store_call_even_while_the_store_is_paused()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        await using var factory = new ServiceFactory(_redis.ConnectionString);
        using var http = factory.CreateHttpClient();
        var client = Wire.NewClient();
        await Wire.VisitAsync(http, client, thirdPartyId: "v1");
        string applied;
        using (var ok = await http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId=v1&profile.a=1"))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            applied = Assert.Single(ok.Headers.GetValues("RateLimit"));
        }
        Assert.StartsWith("\"updates\";r=999999;t=", applied, StringComparison.Ordinal);
        using var admin = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString + ",allowAdmin=true");

        var before = await ScriptCallsAsync(admin);
        for (var i = 0; i < 10; i++)
        {
            using var bad = await http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId=v1");
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            // Within the same second or the next: the reset counts down with the time since the decision.
            var header = Assert.Single(bad.Headers.GetValues("RateLimit"));
            Assert.StartsWith("\"updates\";r=999999;t=", header, StringComparison.Ordinal);
            Assert.InRange(Reset(applied) - Reset(header), 0, 2);
        }
        Assert.Equal(before, await ScriptCallsAsync(admin));

        // A paused store changes nothing for it: nothing is asked.
        await PauseWritesAsync(admin);
        try
        {
            var watch = Stopwatch.StartNew();
            using var bad = await http.GetAsync($"/m2/{client}/profile/update?profile.a=1");
            watch.Stop();
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.StartsWith("\"updates\";r=999999;t=", Assert.Single(bad.Headers.GetValues("RateLimit")), StringComparison.Ordinal);
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"400 after {watch.Elapsed.TotalMilliseconds:0} ms");
        }
        finally
        {
            await admin.GetDatabase().ExecuteAsync("CLIENT", "UNPAUSE");
        }
    }

    [SkippableFact]
    public async Task A_flood_of_invalid_requests_costs_one_quota_look_not_one_each()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        // A bound no round trip of a busy test machine reaches: every request here gets the look's answer.
        await using var factory = new ServiceFactory(_redis.ConnectionString,
            new Dictionary<string, string?> { ["ProfileUpdate:Quota:PeekTimeout"] = "00:00:02" });
        using var http = factory.CreateHttpClient();
        var client = Wire.NewClient();
        using var admin = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString + ",allowAdmin=true");

        var before = await ScriptCallsAsync(admin);
        var floods = Enumerable.Range(0, 8).Select(async _ =>
        {
            for (var i = 0; i < 10; i++)
            {
                using var bad = await http.GetAsync($"/m2/{client}/profile/update?profile.a=1");
                Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
                Assert.Equal("\"updates\";r=1000000;t=0", Assert.Single(bad.Headers.GetValues("RateLimit")));
            }
        });
        await Task.WhenAll(floods);
        // One look, shared by the requests that came while it was in flight and remembered for the ones after it.
        Assert.Equal(before + 1, await ScriptCallsAsync(admin));
    }

    [SkippableFact]
    public async Task The_reset_counts_down_with_the_clock_and_a_decision_too_old_is_looked_up_again()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000 / 60 * 60 + 20)); // 20 s into a minute
        await using var factory = new ServiceFactory(_redis.ConnectionString,
            new Dictionary<string, string?> { ["ProfileUpdate:Quota:RecentDecisionMaxAge"] = "00:00:30" },
            services => services.AddSingleton<TimeProvider>(time));
        using var http = factory.CreateHttpClient();
        var client = Wire.NewClient();
        await Wire.VisitAsync(http, client, thirdPartyId: "v1");
        using var admin = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString + ",allowAdmin=true");

        // A unit used in the current minute frees when minute + 1441 starts, more than a day away: the store reports
        // exactly that (86,460 s less the 20 s into the minute), and a refusal 10 s later counts down, as the store would.
        Assert.Equal("\"updates\";r=999999;t=86440", await UpdateRateLimitAsync(http, client));
        time.Advance(TimeSpan.FromSeconds(10));
        var before = await ScriptCallsAsync(admin);
        Assert.Equal("\"updates\";r=999999;t=86430", await RefusedRateLimitAsync(http, client));
        Assert.Equal(before, await ScriptCallsAsync(admin));

        // In the next minute that unit is less than a day from freeing: the reset counts down.
        time.Advance(TimeSpan.FromSeconds(80)); // 50 s into the next minute
        Assert.Equal("\"updates\";r=999998;t=86350", await UpdateRateLimitAsync(http, client));
        time.Advance(TimeSpan.FromSeconds(10));
        before = await ScriptCallsAsync(admin);
        Assert.Equal("\"updates\";r=999998;t=86340", await RefusedRateLimitAsync(http, client));
        Assert.Equal(before, await ScriptCallsAsync(admin));

        // 31 s after the decision: too old, the store is asked, and it says the same (nothing else used the quota).
        time.Advance(TimeSpan.FromSeconds(21));
        Assert.Equal("\"updates\";r=999998;t=86319", await RefusedRateLimitAsync(http, client));
        Assert.Equal(before + 1, await ScriptCallsAsync(admin));
    }

    private static async Task<string> UpdateRateLimitAsync(HttpClient http, string client)
    {
        using var ok = await http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId=v1&profile.a=1");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        return Assert.Single(ok.Headers.GetValues("RateLimit"));
    }

    private static async Task<string> RefusedRateLimitAsync(HttpClient http, string client)
    {
        using var bad = await http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId=v1");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        return Assert.Single(bad.Headers.GetValues("RateLimit"));
    }

    /// <summary>The t= of a RateLimit header value.</summary>
    private static long Reset(string rateLimit) =>
        long.Parse(rateLimit.Split(';').Single(p => p.StartsWith("t=", StringComparison.Ordinal))[2..], CultureInfo.InvariantCulture);

    /// <summary>
    /// Script calls Redis has run (EVAL and EVALSHA): the quota look is one. Failed calls are not counted: the first call
    /// of a script Redis does not know yet is an EVALSHA answered NOSCRIPT, then an EVAL.
    /// </summary>
    private static async Task<long> ScriptCallsAsync(ConnectionMultiplexer admin)
    {
        var stats = await admin.GetServers()[0].InfoAsync("commandstats");
        long calls = 0;
        foreach (var (key, value) in stats.SelectMany(group => group))
        {
            if (key is not ("cmdstat_eval" or "cmdstat_evalsha")) continue;
            var fields = value.Split(',').Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);
            calls += long.Parse(fields["calls"], CultureInfo.InvariantCulture) - long.Parse(fields["failed_calls"], CultureInfo.InvariantCulture);
        }
        return calls;
    }

    private static async Task PauseWritesAsync(ConnectionMultiplexer admin) =>
        await admin.GetDatabase().ExecuteAsync("CLIENT", "PAUSE", HeldWrites.TotalMilliseconds.ToString(CultureInfo.InvariantCulture), "WRITE");
}
