using System.Globalization;
using System.Net;
using System.Text;
using System.Xml.Linq;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// Bulk erase (docs/api.md §2, "Bulk erase"): <c>POST /m2/{client}/v2/profile/batchDelete</c> on the bulk machinery —
/// same body rules, limits and status resource — deletes each profile found with its links, counts profilesDeleted and
/// profilesNotFound, and refuses attribute columns. On real Redis, the embedded store and a Redis Cluster.
/// </summary>
public abstract class BulkEraseContract(StoreServiceFixture fixture)
{
    private readonly HttpClient _http = fixture.Client;

    private void SkipWithoutStore() => Skip.If(fixture.SkipReason is not null, fixture.SkipReason);

    private async Task<XElement> EraseAsync(string client, string file)
    {
        using var response = await Wire.PostBatchAndWaitAsync(_http, $"/m2/{client}/v2/profile/batchDelete", new StringContent(file, Encoding.UTF8, "text/csv"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var url = new Uri(XElement.Parse(body).Element("batchStatus")!.Value);
        Assert.Contains("/v2/profile/batchStatus", url.AbsolutePath, StringComparison.Ordinal);
        return XElement.Parse(await _http.GetStringAsync(url.PathAndQuery + "&showDetails=true"));
    }

    private static string Count(XElement status, string name) => status.Element(name)!.Value;

    [SkippableFact]
    public async Task A_thirdPartyId_list_erases_every_profile_found_with_all_its_links()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var tnts = new List<string>();
        for (var i = 0; i < 30; i++) tnts.Add(await Wire.VisitAsync(_http, client, thirdPartyId: $"e-{i}"));
        await Wire.VisitAsync(_http, client, tntId: tnts[0], thirdPartyId: "e-0-second");
        var kept = await Wire.VisitAsync(_http, client, thirdPartyId: "keep");

        // Rows (line 1 is the header): 30 known ids, one unknown, one invalid, one with a second cell, one repeated, a blank line.
        var file = "batch=mbox3rdPartyId\n" + string.Concat(Enumerable.Range(0, 30).Select(i => $"e-{i}\n")) + "nobody\nbad%2Fid\ne-1,x\n\ne-2\n";
        var status = await EraseAsync(client, file);
        Assert.Equal("complete", Count(status, "status"));
        Assert.Equal(("34", "34", "30", "30", "2", "2"), (Count(status, "batchSize"), Count(status, "consumedCount"),
            Count(status, "successfulUpdates"), Count(status, "profilesDeleted"), Count(status, "profilesNotFound"), Count(status, "failedUpdates")));
        Assert.Equal(["33", "34"], status.Elements("profile").Select(p => p.Element("row")!.Value));

        var left = await fixture.KeysAsync($"pu:{{{client}:*");
        var keptKeys = left.Where(k => k.Contains(kept.Split('.')[0], StringComparison.Ordinal) || k.Contains("keep", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, keptKeys.Count); // the other profile's hash and link
        Assert.Equal(keptKeys.Order(), left.Order());
        Assert.Null(await Wire.ReadByThirdPartyAsync(_http, client, "e-0-second"));
        using var update = await _http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId=e-5&profile.a=1");
        Assert.Equal("profile-not-found", Assert.Single(update.Headers.GetValues("X-Profile-Update")));
        Assert.NotEqual(tnts[5], await Wire.VisitAsync(_http, client, thirdPartyId: "e-5"));
    }

    [SkippableFact]
    public async Task A_pcId_list_erases_by_tntId_with_or_without_the_location_hint()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var a = await Wire.VisitAsync(_http, client, thirdPartyId: "p-a");
        var b = await Wire.VisitAsync(_http, client, tntId: "1368007744041-575948.01_00", thirdPartyId: "p-b");
        var status = await EraseAsync(client, $"batch=pcId\r\n{a}\r\n1368007744041-575948\r\n{VisitorId()}\r\n");
        Assert.Equal(("2", "1", "0"), (Count(status, "profilesDeleted"), Count(status, "profilesNotFound"), Count(status, "failedUpdates")));
        Assert.Empty(await fixture.KeysAsync($"pu:{{{client}:*"));
        Assert.Null(await Wire.ReadByTntAsync(_http, client, b));

        static string VisitorId() => "unknown" + Guid.NewGuid().ToString("N")[..8];
    }

    [SkippableFact]
    public async Task Attribute_columns_a_bad_header_or_an_empty_body_are_400s_and_nothing_is_deleted()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        await Wire.VisitAsync(_http, client, thirdPartyId: "stay");
        foreach (var (file, expected) in new[]
                 {
                     ("batch=thirdPartyId,tier,city\nstay,gold,x\n", "'tier', 'city'"),
                     ("batch=email\nstay\n", "first header column"),
                     ("thirdPartyId\nstay\n", "must start with 'batch='"),
                     ("", "empty; it must start with 'batch=' and the id column"),
                 })
        {
            using var response = await _http.PostAsync($"/m2/{client}/v2/profile/batchDelete", new StringContent(file, Encoding.UTF8, "text/csv"));
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{file}: {(int)response.StatusCode} {body}");
            var xml = XElement.Parse(body);
            Assert.Equal("false", xml.Element("success")!.Value);
            Assert.Contains(expected, xml.Element("message")!.Value, StringComparison.Ordinal);
            // Said once, in the erase's own words (the update endpoints say "Nothing was applied.").
            Assert.EndsWith(". Nothing was deleted.", xml.Element("message")!.Value, StringComparison.Ordinal);
            Assert.DoesNotContain("applied", xml.Element("message")!.Value, StringComparison.Ordinal);
        }
        Assert.NotNull(await Wire.ReadByThirdPartyAsync(_http, client, "stay"));
    }

    [SkippableFact]
    public async Task A_list_of_thousands_is_erased_in_chunks_in_the_background()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        const int rows = 3_000;
        var create = new StringBuilder("batch=thirdPartyId,n\n");
        for (var i = 0; i < rows; i++) create.Append("m-").Append(i).Append(',').Append(i).Append('\n');
        using (var created = await Wire.PostBatchAndWaitAsync(_http, $"/m2/{client}/v2/profile/batchUpdate", new StringContent(create.ToString(), Encoding.UTF8, "text/csv")))
            Assert.Equal(HttpStatusCode.OK, created.StatusCode);

        var erase = new StringBuilder("batch=thirdPartyId\n");
        for (var i = 0; i < rows; i++) erase.Append("m-").Append(i).Append('\n');
        using var response = await _http.PostAsync($"/m2/{client}/v2/profile/batchDelete", new StringContent(erase.ToString(), Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var url = new Uri(XElement.Parse(await response.Content.ReadAsStringAsync()).Element("batchStatus")!.Value).PathAndQuery + "&showDetails=true";
        XElement status = null!;
        await Eventually.WaitUntilAsync(async () => Count(status = XElement.Parse(await _http.GetStringAsync(url)), "status") == "complete",
            TimeSpan.FromSeconds(120), "the erase to complete");
        Assert.Equal(rows.ToString(CultureInfo.InvariantCulture), Count(status, "profilesDeleted"));
        Assert.Empty(await fixture.KeysAsync($"pu:{{{client}:*"));
    }
}

public sealed class EraseOnRedisFixture() : StoreServiceFixture(StoreKind.Redis);

public sealed class EraseOnEmbeddedFixture() : StoreServiceFixture(StoreKind.Embedded);

public sealed class EraseOnClusterFixture() : StoreServiceFixture(StoreKind.Cluster);

public sealed class BulkEraseOnRedis(EraseOnRedisFixture fixture) : BulkEraseContract(fixture), IClassFixture<EraseOnRedisFixture>;

public sealed class BulkEraseOnEmbeddedStore(EraseOnEmbeddedFixture fixture) : BulkEraseContract(fixture), IClassFixture<EraseOnEmbeddedFixture>;

public sealed class BulkEraseOnRedisCluster(EraseOnClusterFixture fixture) : BulkEraseContract(fixture), IClassFixture<EraseOnClusterFixture>;
