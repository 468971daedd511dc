using System.Net;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>With the feed off (the default) the endpoint answers 404 saying how to turn it on, on a cluster as anywhere.</summary>
public sealed class ChangeFeedOffOnClusterTests(ClusterServiceFixture fixture) : IClassFixture<ClusterServiceFixture>
{
    [SkippableFact]
    public async Task With_the_feed_off_the_endpoint_answers_404_saying_how_to_turn_it_on()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        using var response = await fixture.Client.GetAsync($"/rest/v1/changes?client={Wire.NewClient()}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("ProfileUpdate__Changes__Enabled=true", await Wire.ProblemMessageAsync(response), StringComparison.Ordinal);
    }
}
