using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ProfileUpdate.Api.Quota;
using ProfileUpdate.Api.Store;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// The quota script through the service's own QuotaRepository, with a FakeTimeProvider so a day passes in milliseconds
/// (production reads Redis TIME instead). Run against real Redis and the embedded store.
/// </summary>
public abstract class QuotaWindowContract : IDisposable
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000 / 60 * 60)); // a minute boundary
    private readonly RedisServer? _redis;
    private readonly ServiceFactory? _factory;

    protected QuotaWindowContract(bool onRedis)
    {
        if (onRedis && !RedisServer.IsAvailable) return;
        _redis = onRedis ? new RedisServer() : null;
        _factory = new ServiceFactory(_redis?.ConnectionString, services: s => s.AddSingleton<TimeProvider>(_time));
        _ = _factory.CreateHttpClient();
        Quota = _factory.Services.GetRequiredService<QuotaRepository>();
        Store = _factory.Services.GetRequiredService<StoreConnections>();
    }

    protected QuotaRepository Quota { get; } = null!;

    protected StoreConnections Store { get; } = null!;

    protected bool Available => _factory is not null;

    public void Dispose()
    {
        _factory?.Dispose();
        _redis?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Moves the clock to second <paramref name="second"/> of minute <paramref name="minute"/> after the start.</summary>
    private DateTimeOffset _start;

    private void At(int minute, int second = 0)
    {
        if (_start == default) _start = _time.GetUtcNow();
        _time.SetUtcNow(_start.AddMinutes(minute).AddSeconds(second));
    }

    private void SkipIfUnavailable() => Skip.IfNot(Available, RedisServer.SkipReason);

    /// <summary>One quota call, sent once (as the applier's first try sends it).</summary>
    private Task<QuotaDecision> ConsumeAsync(string client, long limit, long units) => Quota.ConsumeAsync(client, limit, units, new QuotaCall(client));

    [SkippableFact]
    public async Task Units_used_at_minute_0_count_at_minute_1439_and_1440_and_are_free_at_1441()
    {
        SkipIfUnavailable();
        var client = Wire.NewClient();
        At(0, 30);
        Assert.Equal(10, (await ConsumeAsync(client, 10, 10)).Admitted);

        At(1439, 59);
        var denied = await ConsumeAsync(client, 10, 1);
        Assert.Equal(0, denied.Admitted);
        Assert.Equal(61, denied.RetryAfterSeconds); // minute 0 expires when minute 1441 starts, 61 seconds from now

        At(1440, 59);
        Assert.Equal(0, (await ConsumeAsync(client, 10, 1)).Admitted);

        At(1441);
        var admitted = await ConsumeAsync(client, 10, 3);
        Assert.Equal(3, admitted.Admitted);
        Assert.Equal(7, admitted.Remaining);
    }

    [SkippableFact]
    public async Task Units_of_one_minute_add_up_in_its_slot_and_a_reused_slot_starts_from_zero()
    {
        // The script reads the current minute's slot with the state and writes the sum back in the same HSET; the ring
        // slot of minute m is also minute m + 1441's. A slot that kept a stale count would free the wrong number of
        // units when it expires — too few (refusing what is free) or too many (admitting over the limit).
        SkipIfUnavailable();
        var client = Wire.NewClient();
        At(5);
        Assert.Equal(2, (await ConsumeAsync(client, 10, 2)).Admitted);
        At(5, 40);
        Assert.Equal(3, (await ConsumeAsync(client, 10, 3)).Admitted);
        At(6);
        Assert.Equal(5, (await ConsumeAsync(client, 10, 7)).Admitted); // full: 5 + 5

        At(1446); // minute 5's five units are free, minute 6's are not
        var freed = await ConsumeAsync(client, 10, 7);
        Assert.Equal(5, freed.Admitted);
        Assert.Equal(0, freed.Remaining);

        At(1447); // minute 6's five free; minute 1446 (the slot minute 5 used) holds exactly its own five
        Assert.Equal(5, (await ConsumeAsync(client, 10, 6)).Admitted);
        At(2887); // minute 1446 expired: exactly five free, never more
        var after = await ConsumeAsync(client, 10, 11);
        Assert.Equal(5, after.Admitted);
        Assert.Equal(0, after.Remaining);
    }

    [SkippableFact]
    public async Task The_state_s_expiry_is_renewed_when_the_minute_moves()
    {
        SkipIfUnavailable();
        var client = Wire.NewClient();
        var key = QuotaRepository.Key(client);
        At(0);
        await ConsumeAsync(client, 100, 1);
        Assert.True(await Store.Database.KeyTimeToLiveAsync(key) > TimeSpan.FromHours(24));

        // Shortened by hand, then used again in the same minute: renewing once per minute is enough (the key outlives its
        // units by an hour), so the call may leave it. In the next minute it is renewed to a day and more again.
        await Store.Database.KeyExpireAsync(key, TimeSpan.FromMinutes(5));
        At(0, 30);
        await ConsumeAsync(client, 100, 1);
        At(1);
        await ConsumeAsync(client, 100, 1);
        Assert.True(await Store.Database.KeyTimeToLiveAsync(key) > TimeSpan.FromHours(24));
        Assert.Equal(97, (await ConsumeAsync(client, 100, 0)).Remaining);
    }

    [SkippableFact]
    public async Task Retry_after_is_the_time_until_the_oldest_needed_minute_expires()
    {
        SkipIfUnavailable();
        var client = Wire.NewClient();
        At(0);
        await ConsumeAsync(client, 10, 5);
        At(10);
        await ConsumeAsync(client, 10, 5);

        At(100, 15);
        var one = await ConsumeAsync(client, 10, 1);
        Assert.Equal(0, one.Admitted);
        Assert.Equal((1441 - 100) * 60 - 15, one.RetryAfterSeconds); // minute 0's five units free one more
        Assert.Equal(one.RetryAfterSeconds, one.ResetSeconds);

        // With the limit lowered to 4, seven units must expire: minute 0 (5) is not enough, minute 10 is needed too.
        var lowered = await ConsumeAsync(client, 4, 1);
        Assert.Equal(0, lowered.Admitted);
        Assert.Equal((10 + 1441 - 100) * 60 - 15, lowered.RetryAfterSeconds);
    }

    [SkippableFact]
    public async Task A_batch_is_admitted_in_part_and_a_look_consumes_nothing()
    {
        SkipIfUnavailable();
        var client = Wire.NewClient();
        At(5);
        var first = await ConsumeAsync(client, 5, 3);
        Assert.Equal((3, 2), (first.Admitted, first.Remaining));
        var look = await ConsumeAsync(client, 5, 0);
        Assert.Equal((0, 2, 0L), (look.Admitted, look.Remaining, look.RetryAfterSeconds));
        var partial = await ConsumeAsync(client, 5, 4);
        Assert.Equal((2, 0), (partial.Admitted, partial.Remaining));
        Assert.Equal(1441 * 60, partial.RetryAfterSeconds); // used at the start of minute 5, free when minute 1446 starts
    }

    [SkippableFact]
    public async Task A_refused_client_that_waits_exactly_retry_after_is_admitted_and_not_a_second_earlier()
    {
        SkipIfUnavailable();
        var client = Wire.NewClient();
        At(0, 5);
        var used = await ConsumeAsync(client, 1, 1);
        Assert.Equal(1, used.Admitted);
        // The unit frees when minute 1441 starts: more than the 86,400 s of the window away, and reported as such (a
        // wait capped at the window would send the client back a minute early, to be refused again).
        Assert.Equal(1441 * 60 - 5, used.ResetSeconds);
        At(0, 45);
        var refused = await ConsumeAsync(client, 1, 1);
        Assert.Equal(0, refused.Admitted);
        Assert.Equal(1441 * 60 - 45, refused.RetryAfterSeconds);
        Assert.Equal(refused.RetryAfterSeconds, refused.ResetSeconds);

        _time.Advance(TimeSpan.FromSeconds(refused.RetryAfterSeconds - 1));
        Assert.Equal(0, (await ConsumeAsync(client, 1, 1)).Admitted);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, (await ConsumeAsync(client, 1, 1)).Admitted);
    }

    [SkippableFact]
    public async Task A_million_spread_over_the_window_then_one_more_is_denied()
    {
        SkipIfUnavailable();
        var client = Wire.NewClient();
        const int limit = 1_000_000;
        var used = 0L;
        for (var minute = 0; minute < 1440; minute++)
        {
            At(minute, 7);
            var units = limit / 1440 + (minute < limit % 1440 ? 1 : 0);
            var decision = await ConsumeAsync(client, limit, units);
            Assert.Equal(units, decision.Admitted);
            used += decision.Admitted;
        }
        Assert.Equal(limit, used);

        At(1440, 30);
        var more = await ConsumeAsync(client, limit, 1);
        Assert.Equal(0, more.Admitted);
        Assert.Equal(30, more.RetryAfterSeconds); // minute 0 frees when minute 1441 starts

        if (!Store.IsEmbedded)
        {
            // State per client stays small at any rate (docs/architecture.md, key layout: at most 1,441 small fields).
            var bytes = (long)await Store.Database.ExecuteAsync("MEMORY", "USAGE", QuotaRepository.Key(client), "SAMPLES", "0");
            Assert.True(bytes <= 100 * 1024, $"quota state is {bytes} bytes");
        }
    }

    [SkippableFact]
    public async Task State_of_an_idle_client_expires_and_a_clock_stepping_back_frees_nothing()
    {
        SkipIfUnavailable();
        var client = Wire.NewClient();
        At(0);
        await ConsumeAsync(client, 2, 2);
        Assert.True(await Store.Database.KeyTimeToLiveAsync(QuotaRepository.Key(client)) > TimeSpan.FromHours(24));

        At(3000); // two days later: all expired at once
        Assert.Equal(2, (await ConsumeAsync(client, 2, 2)).Admitted);

        // An instance whose clock is a day behind (explicit time, as the script takes it) must not see those units as expired.
        var scripts = _factory!.Services.GetRequiredService<ScriptCatalog>();
        var behind = _time.GetUtcNow().AddDays(-1).ToUnixTimeSeconds();
        var reply = (StackExchange.Redis.RedisResult[])(await scripts.Quota.EvaluateAsync(Store.Database,
            [QuotaRepository.Key(client)], [2, 1, behind, 90_000]))!;
        Assert.Equal(0, (long)reply[0]);
    }
}

public sealed class QuotaWindowOnRedis() : QuotaWindowContract(onRedis: true);

public sealed class QuotaWindowOnEmbeddedStore() : QuotaWindowContract(onRedis: false);

/// <summary>The quota as a client sees it over HTTP (issue acceptance), and shared by two instances.</summary>
public sealed class QuotaHttpTests
{
    [SkippableFact]
    public async Task Client_with_limit_3_gets_three_200s_then_429_and_other_clients_are_unaffected()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        using var redis = new RedisServer();
        await using var factory = new ServiceFactory(redis.ConnectionString, new Dictionary<string, string?>
        {
            ["ProfileUpdate:Clients:small:QuotaLimit"] = "3",
            ["ProfileUpdate:Clients:other:QuotaLimit"] = "100",
        });
        using var http = factory.CreateHttpClient();
        await Wire.VisitAsync(http, "small", thirdPartyId: "v1");

        for (var i = 0; i < 3; i++)
        {
            using var ok = await http.GetAsync($"/m2/small/profile/update?mbox3rdPartyId=v1&profile.n={i}");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("\"updates\";q=3;w=86400", Assert.Single(ok.Headers.GetValues("RateLimit-Policy")));
            var rateLimit = Assert.Single(ok.Headers.GetValues("RateLimit"));
            Assert.StartsWith($"\"updates\";r={2 - i};t=", rateLimit, StringComparison.Ordinal);
        }

        using var denied = await http.GetAsync("/m2/small/profile/update?mbox3rdPartyId=v1&profile.n=4");
        Assert.Equal(HttpStatusCode.TooManyRequests, denied.StatusCode);
        var retryAfter = denied.Headers.RetryAfter?.Delta?.TotalSeconds;
        Assert.True(retryAfter is >= 86_400 - 60 and <= 86_400 + 60, $"Retry-After {retryAfter}"); // the units were used just now
        var message = await Wire.ProblemMessageAsync(denied);
        Assert.Contains("quota of 3", message, StringComparison.Ordinal);
        Assert.Contains("small", message, StringComparison.Ordinal);
        Assert.StartsWith("\"updates\";r=0;", Assert.Single(denied.Headers.GetValues("RateLimit")), StringComparison.Ordinal);
        var profile = (await Wire.ReadByThirdPartyAsync(http, "small", "v1"))!.Value;
        Assert.Equal("2", Wire.Attribute(profile, "n")); // the denied update was not applied

        // A refused request consumes nothing and still carries the headers.
        using var bad = await http.GetAsync("/m2/other/profile/update?profile.a=1");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("\"updates\";q=100;w=86400", Assert.Single(bad.Headers.GetValues("RateLimit-Policy")));
        Assert.StartsWith("\"updates\";r=100;t=0", Assert.Single(bad.Headers.GetValues("RateLimit")), StringComparison.Ordinal);

        using var other = await http.GetAsync("/m2/other/profile/update?mbox3rdPartyId=v1&profile.a=1");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.StartsWith("\"updates\";r=99;", Assert.Single(other.Headers.GetValues("RateLimit")), StringComparison.Ordinal);

        using var unknown = await http.GetAsync("/m2/stranger/profile/update?mbox3rdPartyId=v1&profile.a=1");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("not configured", await Wire.ProblemMessageAsync(unknown), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Two_instances_on_one_redis_admit_exactly_the_limit_in_total()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        const int limit = 50;
        using var redis = new RedisServer();
        var settings = new Dictionary<string, string?> { ["ProfileUpdate:Quota:Limit"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        await using var one = new ServiceFactory(redis.ConnectionString, settings);
        await using var two = new ServiceFactory(redis.ConnectionString, settings);
        using var httpOne = one.CreateHttpClient();
        using var httpTwo = two.CreateHttpClient();
        var client = Wire.NewClient();
        await Wire.VisitAsync(httpOne, client, thirdPartyId: "shared");

        var callers = Enumerable.Range(0, 10).Select(async caller =>
        {
            var statuses = new List<HttpStatusCode>();
            for (var i = 0; i < 20; i++)
            {
                var http = (caller + i) % 2 == 0 ? httpOne : httpTwo;
                using var r = await http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId=shared&profile.c{caller}=v{i}");
                statuses.Add(r.StatusCode);
            }
            return statuses;
        });
        var all = (await Task.WhenAll(callers)).SelectMany(s => s).ToList();

        Assert.Equal(200, all.Count);
        Assert.Equal(limit, all.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(200 - limit, all.Count(s => s == HttpStatusCode.TooManyRequests));
    }
}
