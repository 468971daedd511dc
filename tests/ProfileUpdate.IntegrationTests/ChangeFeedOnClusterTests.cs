using System.Net;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// The change feed and Redis Cluster: a client's log is one key, in another slot than its profiles, so an entry cannot be
/// appended in the same atomic script as its change there. Rather than write changes without their entries, a service
/// with the feed on refuses to start on a cluster, saying why; with the feed off (the default) the endpoint answers 404
/// saying how to turn it on.
/// </summary>
public sealed class ChangeFeedOnClusterTests(ClusterServiceFixture fixture) : IClassFixture<ClusterServiceFixture>
{
    [SkippableFact]
    public void With_the_feed_on_the_service_refuses_to_start_on_a_cluster_and_says_why()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        using var factory = new ServiceFactory(fixture.Cluster.ConnectionString, new Dictionary<string, string?> { ["ProfileUpdate:Changes:Enabled"] = "true" });
        var refused = Assert.ThrowsAny<Exception>(() => factory.CreateHttpClient());
        var messages = string.Join(" | ", Flatten(refused).Select(e => e.Message));
        Assert.Contains("ProfileUpdate:Changes:Enabled", messages, StringComparison.Ordinal);
        Assert.Contains("Redis Cluster", messages, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task With_the_feed_off_the_endpoint_answers_404_saying_how_to_turn_it_on()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        using var response = await fixture.Client.GetAsync($"/rest/v1/changes?client={Wire.NewClient()}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("ProfileUpdate__Changes__Enabled=true", await Wire.ProblemMessageAsync(response), StringComparison.Ordinal);
    }

    private static IEnumerable<Exception> Flatten(Exception e)
    {
        yield return e;
        if (e is AggregateException aggregate)
            foreach (var inner in aggregate.InnerExceptions.SelectMany(Flatten)) yield return inner;
        else if (e.InnerException is { } inner)
            foreach (var nested in Flatten(inner)) yield return nested;
    }
}
