using System.Net;
using System.Text;
using System.Xml.Linq;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// Asynchronous bulk (docs/api.md §2, "Processing"): the POST answers once the file is spooled, with status incomplete;
/// the batch is applied in the background with consumedCount growing; <c>Prefer: wait</c> answers complete; a full
/// spool refuses with 503 and keeps nothing. On real Redis and on the embedded store.
/// </summary>
public abstract class BulkAtScaleContract(IServiceFixture fixture)
{
    private readonly HttpClient _http = fixture.Client;

    private void SkipWithoutStore() => Skip.If(fixture.SkipReason is not null, fixture.SkipReason);

    private static string File(int rows, string prefix = "r")
    {
        var file = new StringBuilder("batch=thirdPartyId,tier,n\n");
        for (var i = 0; i < rows; i++) file.Append(prefix).Append(i).Append(",gold,").Append(i).Append('\n');
        return file.ToString();
    }

    private async Task<XElement> StatusAsync(string url)
    {
        using var response = await _http.GetAsync(url + "&showDetails=true");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return XElement.Parse(await response.Content.ReadAsStringAsync());
    }

    [SkippableFact]
    public async Task The_answer_comes_before_the_batch_is_applied_and_consumed_count_grows_to_complete()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        const int rows = 60_000;
        using var response = await _http.PostAsync($"/m2/{client}/v2/profile/batchUpdate", new StringContent(File(rows), Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var url = XElement.Parse(await response.Content.ReadAsStringAsync()).Element("batchStatus")!.Value;

        var first = await StatusAsync(url);
        Assert.Equal(rows.ToString(System.Globalization.CultureInfo.InvariantCulture), first.Element("batchSize")!.Value);
        Assert.Equal("incomplete", first.Element("status")!.Value); // 60,000 rows take far longer than answering took

        var seen = new List<long>();
        XElement last = first;
        await Eventually.WaitUntilAsync(async () =>
        {
            last = await StatusAsync(url);
            seen.Add(long.Parse(last.Element("consumedCount")!.Value, System.Globalization.CultureInfo.InvariantCulture));
            return last.Element("status")!.Value == "complete";
        }, TimeSpan.FromSeconds(120), "the batch to complete", poll: TimeSpan.FromMilliseconds(20));

        Assert.Contains(seen, c => c > 0 && c < rows); // observed part-way
        Assert.Equal(seen.Order(), seen); // never goes back
        Assert.Equal(rows.ToString(System.Globalization.CultureInfo.InvariantCulture), last.Element("consumedCount")!.Value);
        Assert.Equal(rows.ToString(System.Globalization.CultureInfo.InvariantCulture), last.Element("successfulUpdates")!.Value);
        Assert.Equal(rows.ToString(System.Globalization.CultureInfo.InvariantCulture), last.Element("profilesCreated")!.Value);
        Assert.Equal("59999", Wire.Attribute((await Wire.ReadByThirdPartyAsync(_http, client, "r59999"))!.Value, "n"));
    }

    [SkippableFact]
    public async Task Prefer_wait_answers_once_the_batch_is_complete()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/m2/{client}/v2/profile/batchUpdate")
        {
            Content = new StringContent(File(5_000), Encoding.UTF8, "text/csv"),
        };
        request.Headers.Add("Prefer", "respond-async, wait=60");
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("wait=60", Assert.Single(response.Headers.GetValues("Preference-Applied")));
        var url = XElement.Parse(await response.Content.ReadAsStringAsync()).Element("batchStatus")!.Value;
        var status = await StatusAsync(url);
        Assert.Equal("complete", status.Element("status")!.Value);
        Assert.Equal("5000", status.Element("successfulUpdates")!.Value);
        Assert.Equal("4999", Wire.Attribute((await Wire.ReadByThirdPartyAsync(_http, client, "r4999"))!.Value, "n"));
    }

    [SkippableFact]
    public async Task V1_and_v2_counts_are_exact_in_the_background()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        await Wire.VisitAsync(_http, client, thirdPartyId: "known");
        using var v1 = await _http.PostAsync($"/m2/{client}/profile/batchUpdate",
            new StringContent("batch=thirdPartyId,tier\nknown,gold\nunknown,gold\nbad%ZZ,gold\n\n", Encoding.UTF8, "text/csv"));
        var url = XElement.Parse(await v1.Content.ReadAsStringAsync()).Element("batchStatus")!.Value;
        XElement status = null!;
        await Eventually.WaitUntilAsync(async () => (status = await StatusAsync(url)).Element("status")!.Value == "complete",
            TimeSpan.FromSeconds(60), "the v1 batch to complete");
        Assert.Equal(("3", "3", "1", "1", "1", "0"), (status.Element("batchSize")!.Value, status.Element("consumedCount")!.Value,
            status.Element("successfulUpdates")!.Value, status.Element("profilesNotFound")!.Value, status.Element("failedUpdates")!.Value,
            status.Element("profilesCreated")!.Value));
        Assert.Null(await Wire.ReadByThirdPartyAsync(_http, client, "unknown"));
    }
}

public sealed class BulkAtScaleOnRedis(RedisServiceFixture fixture) : BulkAtScaleContract(fixture), IClassFixture<RedisServiceFixture>;

public sealed class BulkAtScaleOnEmbeddedStore(EmbeddedServiceFixture fixture) : BulkAtScaleContract(fixture), IClassFixture<EmbeddedServiceFixture>;

/// <summary>The spool is bounded: an upload that does not fit answers 503 with Retry-After, and nothing of it is kept or applied.</summary>
public sealed class BulkSpoolLimitTests
{
    [SkippableTheory]
    [InlineData("redis")]
    [InlineData("embedded")]
    public async Task A_full_spool_answers_503_and_keeps_and_applies_nothing(string store)
    {
        Skip.If(store == "redis" && !RedisServer.IsAvailable, RedisServer.SkipReason);
        using var redis = store == "redis" ? new RedisServer() : null;
        using var factory = new ServiceFactory(redis?.ConnectionString,
            new Dictionary<string, string?> { ["ProfileUpdate:Bulk:MaxSpoolBytes"] = "1048576" });
        using var http = factory.CreateHttpClient();
        var client = Wire.NewClient();
        var file = new StringBuilder("batch=thirdPartyId,tier\n");
        for (var i = 0; file.Length < 1_200_000; i++) file.Append("big-").Append(i).Append(",gold\n");

        using var response = await http.PostAsync($"/m2/{client}/v2/profile/batchUpdate", new StringContent(file.ToString(), Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
        var xml = XElement.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("false", xml.Element("success")!.Value);
        Assert.Contains("spool", xml.Element("message")!.Value, StringComparison.Ordinal);
        Assert.Empty(Directory.Exists(factory.SpoolDirectory) ? Directory.GetFiles(factory.SpoolDirectory) : []);
        Assert.Null(await Wire.ReadByThirdPartyAsync(http, client, "big-0"));

        // The space was given back: a small batch fits at once.
        using var small = await Wire.PostBatchAndWaitAsync(http, $"/m2/{client}/v2/profile/batchUpdate",
            new StringContent("batch=thirdPartyId,tier\nsmall,gold\n", Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
        Assert.NotNull(await Wire.ReadByThirdPartyAsync(http, client, "small"));
    }
}
