using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using ProfileUpdate.Api.Store;
using ProfileUpdate.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// The applier's one retry after a broken connection, when the broken call had run in Redis and only its reply was
/// lost: a proxy between the service and Redis passes the update's script call on, drops everything Redis answers on
/// that connection, and cuts it once the script has run. The retry is answered from the first run's reply marker: the
/// update is applied (not 429, though its client's quota of 1 is used up — by it), it cost one unit, and the change feed
/// holds its entry once.
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
}
