using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ProfileUpdate.IntegrationTests.Infrastructure;
using ProfileUpdate.Testing;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// Two instances on one store whose clocks disagree by an hour: a log's time never goes back (an entry written by the
/// slow clock after one by the fast clock takes the later time), so the feed stays in time order and a cluster's logs
/// can be merged by time. Real Redis.
/// </summary>
public sealed class ChangeFeedClockSkewTests
{
    private static readonly Dictionary<string, string?> Feed = new() { ["ProfileUpdate:Changes:Enabled"] = "true" };

    [SkippableFact]
    public async Task An_entry_written_by_a_slower_clock_after_a_faster_one_takes_the_later_time()
    {
        Skip.If(!RedisServer.IsAvailable, RedisServer.SkipReason);
        using var redis = new RedisServer();
        var ahead = new FakeTimeProvider(DateTimeOffset.UtcNow.AddHours(1));
        using var fast = new ServiceFactory(redis.ConnectionString, Feed, services: s => s.AddSingleton<TimeProvider>(ahead));
        using var slow = new ServiceFactory(redis.ConnectionString, Feed);
        using var fastHttp = fast.CreateHttpClient();
        using var slowHttp = slow.CreateHttpClient();
        var client = Wire.NewClient();

        await Wire.VisitAsync(slowHttp, client, thirdPartyId: "skew-1", parameters: new Dictionary<string, string> { ["n"] = "1" });
        await Wire.VisitAsync(fastHttp, client, thirdPartyId: "skew-1", parameters: new Dictionary<string, string> { ["n"] = "2" });
        await Wire.VisitAsync(slowHttp, client, thirdPartyId: "skew-1", parameters: new Dictionary<string, string> { ["n"] = "3" });
        using (var update = await slowHttp.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId=skew-1&profile.n=4"))
            Assert.Equal(HttpStatusCode.OK, update.StatusCode);

        using var page = await slowHttp.GetAsync($"/rest/v1/changes?client={client}");
        var changes = JsonDocument.Parse(await page.Content.ReadAsStringAsync()).RootElement.GetProperty("changes").EnumerateArray().ToList();
        Assert.Equal(["n=1", "n=2", "n=3", "n=4"], changes.Select(c => "n=" + c.GetProperty("set").GetProperty("n").GetString()).ToArray());
        var times = changes.Select(c => DateTimeOffset.Parse(c.GetProperty("at").GetString()!, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.True(times[0] < times[1], "the fast clock's entry is an hour later");
        Assert.Equal(times[1], times[2]); // written by the slow clock after it: takes its time
        Assert.Equal(times[1], times[3]);
    }
}
