using System.Net;
using ProfileUpdate.Api.Changes;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// A cursor's shape depends on the store (one log, or one per partition on Redis Cluster), which the service learns when
/// the store first answers. An instance started while its store is down answers a cursor with 503 + Retry-After until
/// then, not a 400 that would tell the reader its (possibly good) cursor is wrong; once the store answers, the cursor is
/// judged as usual. Real Redis, stopped before the service starts.
/// </summary>
public sealed class ChangeFeedStoreDownAtStartTests
{
    [SkippableFact]
    public async Task A_cursor_gets_503_until_the_store_has_answered_then_is_judged()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        using var redis = new RedisServer();
        redis.Stop();
        await using var factory = new ServiceFactory(redis.ConnectionString, new Dictionary<string, string?> { ["ProfileUpdate:Changes:Enabled"] = "true" });
        using var http = factory.CreateHttpClient();
        var client = Wire.NewClient();
        // The shape of a cursor of a 64-partition cluster: not one of a standalone store's.
        var clusterCursor = ChangeCursor.Encode(new long[64]);

        using (var early = await http.GetAsync($"/rest/v1/changes?client={client}&after={clusterCursor}"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, early.StatusCode);
            Assert.NotNull(early.Headers.RetryAfter);
            Assert.Contains("has not answered", await Wire.ProblemMessageAsync(early), StringComparison.Ordinal);
        }

        redis.Start();
        await Eventually.WaitUntilAsync(async () =>
        {
            using var page = await http.GetAsync($"/rest/v1/changes?client={client}");
            return page.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(60), "the feed to answer once the store is up");
        using var judged = await http.GetAsync($"/rest/v1/changes?client={client}&after={clusterCursor}");
        Assert.Equal(HttpStatusCode.BadRequest, judged.StatusCode);
        Assert.Contains("is not a cursor of this change feed", await Wire.ProblemMessageAsync(judged), StringComparison.Ordinal);
    }
}
