using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using ProfileUpdate.Api.Profiles;
using ProfileUpdate.Api.Store;
using ProfileUpdate.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// The applier's one retry after a broken connection, when the broken call had run in Redis and only its reply was
/// lost: a proxy between the service and Redis passes the update's script call on, drops everything Redis answers on
/// that connection, and cuts it once the script has run. The retry is answered from the first run's reply marker: the
/// update is applied (not 429, though its client's quota of 1 is used up — by it), it cost one unit, and the change feed
/// holds its entry once. The same for the apply calls outside quota_apply.lua, answered from their own reply markers
/// (change feed on): with the quota off, on a Redis Cluster (per-slot calls, the cluster's nodes behind proxies), and in
/// the rewrite through a stale remembered link.
/// </summary>
public sealed class LostReplyTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [SkippableFact]
    public async Task An_update_whose_script_ran_but_whose_reply_was_lost_is_answered_as_it_ran_and_counted_once()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        using var redis = new RedisServer();
        await using var proxy = new ReplyDroppingProxy(redis.Port);
        await using var factory = new ServiceFactory(proxy.ConnectionString, new Dictionary<string, string?>
        {
            ["ProfileUpdate:Quota:Limit"] = "1",
            ["ProfileUpdate:Changes:Enabled"] = "true",
            // Room for the reconnect, so the answer is the retry's and not a timeout's 503 on a slow machine.
            ["ProfileUpdate:Applier:RequestTimeout"] = "00:00:20",
            ["ProfileUpdate:Store:ReconnectGrace"] = "00:00:10",
        });
        using var http = factory.CreateHttpClient();

        // Another client's update first, so the script is loaded: a first EVALSHA answered NOSCRIPT would not have run.
        var warm = Wire.NewClient();
        await Wire.VisitAsync(http, warm, thirdPartyId: "warm");
        using (var warmed = await http.GetAsync($"/m2/{warm}/profile/update?mbox3rdPartyId=warm&profile.a=1"))
            Assert.Equal(HttpStatusCode.OK, warmed.StatusCode);

        var client = Wire.NewClient();
        var id = Wire.NewId();
        var tnt = await Wire.VisitAsync(http, client, thirdPartyId: id);
        using var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = admin.GetDatabase();
        var quotaKey = $"pu:q:{{{client}}}";
        proxy.Arm(Encoding.UTF8.GetBytes(quotaKey), () => Eventually.WaitUntilAsync(
            async () => await db.HashGetAsync(quotaKey, "sum") == 1, Deadline, "the update's script to run in Redis"));

        using var response = await http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId={id}&profile.tier=gold");

        Assert.True(proxy.Tripped, "the proxy never cut the update's connection; the test proves nothing");
        Assert.Equal(2, proxy.Matches); // the first send, whose reply was lost, and the applier's retry
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("applied", Assert.Single(response.Headers.GetValues("X-Profile-Update")));
        Assert.StartsWith("\"updates\";r=0;", Assert.Single(response.Headers.GetValues("RateLimit")), StringComparison.Ordinal);
        Assert.Equal(1, (long)await db.HashGetAsync(quotaKey, "sum"));
        var log = factory.Services.GetRequiredService<ProfileLayout>().Log(client, tnt.Split('.')[0]);
        var entries = (await db.ListRangeAsync(log)).Select(e => ((string)e!)[..1]).ToList();
        Assert.Equal(["#", "u"], entries); // the visit's creation (the head, with its sequence number), the update once
        Assert.Equal("gold", Wire.Attribute((await Wire.ReadByThirdPartyAsync(http, client, id))!.Value, "tier"));
    }
    [SkippableFact]
    public async Task With_the_quota_off_an_update_whose_apply_call_ran_but_whose_reply_was_lost_is_answered_as_it_ran_and_logged_once()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        using var redis = new RedisServer();
        await using var proxy = new ReplyDroppingProxy(redis.Port);
        await using var factory = new ServiceFactory(proxy.ConnectionString, FeedSettings(("ProfileUpdate:Quota:Enabled", "false")));
        using var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        await AssertLostApplyReplyLoggedOnceAsync(factory, [proxy], admin);
    }

    [SkippableFact]
    public async Task On_a_cluster_an_update_whose_apply_call_ran_but_whose_reply_was_lost_is_answered_as_it_ran_and_logged_once()
    {
        Skip.IfNot(RedisCluster.IsAvailable, RedisCluster.SkipReason);
        using var cluster = new RedisCluster();
        var proxies = cluster.Ports.Select(port => new ReplyDroppingProxy(port)).ToList();
        try
        {
            // Every node tells clients its proxy's port, so the service reaches each node only through its proxy.
            cluster.Announce([.. proxies.Select(p => p.Port)]);
            await using var factory = new ServiceFactory(string.Join(',', proxies.Select(p => p.ConnectionString)), FeedSettings());
            using var admin = await ConnectionMultiplexer.ConnectAsync(cluster.ConnectionString);
            await AssertLostApplyReplyLoggedOnceAsync(factory, proxies, admin);
        }
        finally
        {
            foreach (var proxy in proxies) await proxy.DisposeAsync();
        }
    }

    [SkippableFact]
    public async Task A_rewrite_through_a_stale_link_whose_reply_was_lost_is_answered_as_it_ran_and_logged_once()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        using var redis = new RedisServer();
        await using var proxy = new ReplyDroppingProxy(redis.Port);
        await using var factory = new ServiceFactory(proxy.ConnectionString, FeedSettings());
        using var http = factory.CreateHttpClient();
        using var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        await LoadScriptsAsync(factory, admin);
        var db = admin.GetDatabase();

        var client = Wire.NewClient();
        var id = Wire.NewId();
        var tnt = await Wire.VisitAsync(http, client, thirdPartyId: id);
        // The service remembers the id as linked to a profile that is gone: the update's write finds nothing, so the
        // applier forgets the link, looks it up and rewrites the update to the profile the id names (RetryStaleLinksAsync).
        factory.Services.GetRequiredService<LinkCache>().Add(client, id, "1700000000000-999999.01_00");
        var layout = factory.Services.GetRequiredService<ProfileLayout>();
        var profile = layout.Profile(client, VisitorIds.TntBase(tnt));
        // Only the rewrite's call names the profile's hash (the first write went to the stale one).
        proxy.Arm(Encoding.UTF8.GetBytes(profile.ToString()), () => Eventually.WaitUntilAsync(
            async () => ((string?)await db.HashGetAsync(profile, "a:tier"))?.EndsWith(":gold", StringComparison.Ordinal) == true,
            Deadline, "the rewrite's apply call to run in Redis"));

        using var response = await http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId={id}&profile.tier=gold");

        Assert.True(proxy.Tripped, "the proxy never cut the rewrite's connection; the test proves nothing");
        Assert.Equal(2, proxy.Matches); // the rewrite, whose reply was lost, and the applier's retry of it
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("applied", Assert.Single(response.Headers.GetValues("X-Profile-Update")));
        Assert.Equal(1, (long)await db.HashGetAsync($"pu:q:{{{client}}}", "sum"));
        var entries = (await db.ListRangeAsync(layout.Log(client, VisitorIds.TntBase(tnt)))).Select(e => ((string)e!)[..1]).ToList();
        Assert.Equal(["#", "u"], entries); // the visit's creation, the rewritten update once
        Assert.Equal("gold", Wire.Attribute((await Wire.ReadByThirdPartyAsync(http, client, id))!.Value, "tier"));
    }

    private static Dictionary<string, string?> FeedSettings(params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ProfileUpdate:Changes:Enabled"] = "true",
            // Room for the reconnect, so the answer is the retry's and not a timeout's 503 on a slow machine.
            ["ProfileUpdate:Applier:RequestTimeout"] = "00:00:20",
            ["ProfileUpdate:Store:ReconnectGrace"] = "00:00:10",
        };
        foreach (var (key, value) in more) settings[key] = value;
        return settings;
    }

    /// <summary>
    /// The service's scripts on every node, so the armed call is not a first EVALSHA answered NOSCRIPT (which would not
    /// have run) on whichever node holds its slot.
    /// </summary>
    private static async Task LoadScriptsAsync(ServiceFactory factory, ConnectionMultiplexer admin)
    {
        var scripts = factory.Services.GetRequiredService<ScriptCatalog>();
        foreach (var server in admin.GetServers())
            foreach (var script in scripts.All) await server.ScriptLoadAsync(script.Source);
    }

    /// <summary>
    /// One update whose apply call (apply_marked.lua) runs in Redis while its reply is lost with its connection, which a
    /// proxy then cuts: the applier's retry is answered from the call's marker, so the update answers as it ran and the
    /// change feed holds its entry once.
    /// </summary>
    private static async Task AssertLostApplyReplyLoggedOnceAsync(ServiceFactory factory, IReadOnlyList<ReplyDroppingProxy> proxies,
        ConnectionMultiplexer admin)
    {
        using var http = factory.CreateHttpClient();
        var db = admin.GetDatabase();
        var client = Wire.NewClient();
        var id = Wire.NewId();
        var tnt = await Wire.VisitAsync(http, client, thirdPartyId: id);
        await LoadScriptsAsync(factory, admin);
        var layout = factory.Services.GetRequiredService<ProfileLayout>();
        var profile = layout.Profile(client, VisitorIds.TntBase(tnt));
        var value = Wire.NewId("gold"); // only the update's apply call carries it
        foreach (var proxy in proxies)
        {
            proxy.Arm(Encoding.UTF8.GetBytes(value), () => Eventually.WaitUntilAsync(
                async () => ((string?)await db.HashGetAsync(profile, "a:tier"))?.EndsWith(value, StringComparison.Ordinal) == true,
                Deadline, "the update's apply call to run in Redis"));
        }

        using var response = await http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId={id}&profile.tier={value}");

        Assert.True(proxies.Count(p => p.Tripped) == 1, "no proxy cut the update's connection; the test proves nothing");
        Assert.Equal(2, proxies.Sum(p => p.Matches)); // the first send, whose reply was lost, and the applier's retry
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        Assert.Equal("applied", Assert.Single(response.Headers.GetValues("X-Profile-Update")));
        var entries = (await db.ListRangeAsync(layout.Log(client, VisitorIds.TntBase(tnt)))).Select(e => ((string)e!)[..1]).ToList();
        Assert.Equal(["#", "u"], entries); // the visit's creation (the head, with its sequence number), the update once
        Assert.Equal(value, Wire.Attribute((await Wire.ReadByThirdPartyAsync(http, client, id))!.Value, "tier"));
    }
}
