using System.Net;
using System.Text;
using System.Xml.Linq;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>The whole single-update contract again, on a 3-master Redis Cluster (no CROSSSLOT anywhere).</summary>
public sealed class SingleUpdateOnRedisCluster(ClusterServiceFixture fixture) : SingleUpdateContract(fixture), IClassFixture<ClusterServiceFixture>;

/// <summary>Bulk, reads and the shared quota on a Redis Cluster.</summary>
public sealed class ClusterTests(ClusterServiceFixture fixture) : IClassFixture<ClusterServiceFixture>
{
    [SkippableFact]
    public async Task Bulk_v1_v2_and_status_work_across_slots()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        var http = fixture.Client;
        var client = Wire.NewClient();
        var rows = string.Concat(Enumerable.Range(0, 300).Select(i => $"c-{i},v{i}\n"));
        using var v2 = await Wire.PostBatchAndWaitAsync(http, $"/m2/{client}/v2/profile/batchUpdate", new StringContent("batch=thirdPartyId,a\n" + rows + "bad%2Bid,x\n", Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.OK, v2.StatusCode);
        var statusUrl = new Uri(XElement.Parse(await v2.Content.ReadAsStringAsync()).Element("batchStatus")!.Value);
        var status = XElement.Parse(await http.GetStringAsync(statusUrl.PathAndQuery + "&showDetails=true"));
        Assert.Equal("complete", status.Element("status")!.Value);
        Assert.Equal("300", status.Element("profilesCreated")!.Value);
        Assert.Equal("1", status.Element("failedUpdates")!.Value);

        using var v1 = await Wire.PostBatchAndWaitAsync(http, $"/m2/{client}/profile/batchUpdate", new StringContent("batch=thirdPartyId,b\n" +
            string.Concat(Enumerable.Range(0, 300).Select(i => $"c-{i},w{i}\n")) + "nobody,x\n", Encoding.UTF8, "text/csv"));
        var s1 = XElement.Parse(await http.GetStringAsync(new Uri(XElement.Parse(await v1.Content.ReadAsStringAsync()).Element("batchStatus")!.Value).PathAndQuery + "&showDetails=true"));
        Assert.Equal(("300", "1"), (s1.Element("successfulUpdates")!.Value, s1.Element("profilesNotFound")!.Value));

        var profile = (await Wire.ReadByThirdPartyAsync(http, client, "c-123"))!.Value;
        Assert.Equal(("v123", "w123"), (Wire.Attribute(profile, "a"), Wire.Attribute(profile, "b")));
    }

    [SkippableFact]
    public async Task Two_instances_on_the_cluster_share_the_exact_quota()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        const int limit = 40;
        var settings = new Dictionary<string, string?> { ["ProfileUpdate:Quota:Limit"] = limit.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        await using var one = new ServiceFactory(fixture.Cluster.ConnectionString, settings);
        await using var two = new ServiceFactory(fixture.Cluster.ConnectionString, settings);
        using var httpOne = one.CreateHttpClient();
        using var httpTwo = two.CreateHttpClient();
        var client = Wire.NewClient();
        var ids = Enumerable.Range(0, 20).Select(i => $"q-{i}").ToArray();
        foreach (var id in ids) await Wire.VisitAsync(httpOne, client, thirdPartyId: id);

        var statuses = (await Task.WhenAll(Enumerable.Range(0, 8).Select(async caller =>
        {
            var seen = new List<HttpStatusCode>();
            for (var i = 0; i < 15; i++)
            {
                var http = (caller + i) % 2 == 0 ? httpOne : httpTwo;
                using var r = await http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId={ids[(caller + i) % ids.Length]}&profile.n={i}");
                seen.Add(r.StatusCode);
            }
            return seen;
        }))).SelectMany(s => s).ToList();

        Assert.Equal(limit, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(120 - limit, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
    }
}
