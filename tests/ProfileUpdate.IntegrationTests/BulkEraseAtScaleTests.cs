using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Store;
using System.Globalization;
using System.Net;
using System.Text;
using System.Xml.Linq;
using ProfileUpdate.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// Bulk erase at the contract's scale with real processes and a real Redis (docs/api.md §2, "Bulk erase"): one request
/// erases 500,000 ids in chunks with bounded memory; killed with SIGKILL part-way it resumes on restart (the spool file
/// keeps its kind) and ends with exactly the counts of an uninterrupted run, leaving no key of an erased profile.
/// </summary>
[Collection(nameof(ProcessLevelTests))] // heavy: one at a time with the other process tests
public sealed class BulkEraseAtScaleTests
{
    private const int Rows = 500_000;
    private const int UnknownEvery = 50_000; // ids with no profile: counted in profilesNotFound, once

    private static async Task<XElement> StatusAsync(HttpClient http, string url)
    {
        using var response = await http.GetAsync(new Uri(url).PathAndQuery + "&showDetails=true");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return XElement.Parse(await response.Content.ReadAsStringAsync());
    }

    private static long Count(XElement status, string name) => long.Parse(status.Element(name)!.Value, CultureInfo.InvariantCulture);

    [SkippableFact]
    public async Task Half_a_million_ids_are_erased_with_one_request_in_bounded_memory_and_survive_SIGKILL_with_exact_counts()
    {
        Skip.If(!RedisServer.IsAvailable, RedisServer.SkipReason);
        using var redis = new RedisServer();
        var client = Wire.NewClient();
        var file = new StringBuilder("batch=thirdPartyId\n");
        var unknown = 0;
        using (var seed = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString))
        {
            // Profiles as the service writes them (hash with its link field, and the link), pipelined straight into Redis.
            var db = seed.GetDatabase();
            var pending = new List<Task>(20_000);
            for (var i = 0; i < Rows; i++)
            {
                var id = "e-" + i.ToString(CultureInfo.InvariantCulture);
                file.Append(id).Append('\n');
                if (i % UnknownEvery == UnknownEvery - 1) { unknown++; continue; }
                var tnt = "t" + i.ToString(CultureInfo.InvariantCulture);
                pending.Add(db.HashSetAsync(RedisKeys.Profile(client, tnt, ProfilesOptions.DefaultPartitions),
                    [new("_:t", tnt + ".0_0"), new("_:3", id), new("_:l:" + id, ""), new("_:c", 1), new("_:m", 1), new("a:n", "1:x")]));
                pending.Add(db.StringSetAsync($"pu:{{{client}:3p:{id}}}", tnt + ".0_0"));
                if (pending.Count >= 20_000) { await Task.WhenAll(pending); pending.Clear(); }
            }
            await Task.WhenAll(pending);
        }

        var spool = Directory.CreateTempSubdirectory("pu-erase-spool-").FullName;
        var settings = new Dictionary<string, string> { ["ProfileUpdate__Bulk__SpoolDirectory"] = spool };
        string url;
        long peakRss = 0;
        using (var first = await ServiceProcess.StartAsync(redis.ConnectionString, settings))
        {
            using var http = new HttpClient { BaseAddress = first.BaseAddress, Timeout = TimeSpan.FromSeconds(120) };
            using var response = await http.PostAsync($"/m2/{client}/v2/profile/batchDelete", new StringContent(file.ToString(), Encoding.UTF8, "text/csv"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            url = XElement.Parse(await response.Content.ReadAsStringAsync()).Element("batchStatus")!.Value;
            await Eventually.WaitUntilAsync(async () =>
            {
                peakRss = Math.Max(peakRss, first.ResidentBytes());
                return Count(await StatusAsync(http, url), "consumedCount") >= 100_000;
            }, TimeSpan.FromSeconds(300), "the erase to be part-way", poll: TimeSpan.FromMilliseconds(50));
            first.Kill();
        }
        Assert.Single(Directory.GetFiles(spool, "*.erase.batch"));

        using (var second = await ServiceProcess.StartAsync(redis.ConnectionString, settings))
        {
            using var http = new HttpClient { BaseAddress = second.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
            XElement status = null!;
            await Eventually.WaitUntilAsync(async () =>
            {
                peakRss = Math.Max(peakRss, second.ResidentBytes());
                return (status = await StatusAsync(http, url)).Element("status")!.Value == "complete";
            }, TimeSpan.FromSeconds(600), "the resumed erase to complete", poll: TimeSpan.FromMilliseconds(200));

            Assert.Equal(Rows, Count(status, "batchSize"));
            Assert.Equal(Rows, Count(status, "consumedCount"));
            Assert.Equal(Rows - unknown, Count(status, "profilesDeleted"));
            Assert.Equal(Rows - unknown, Count(status, "successfulUpdates"));
            Assert.Equal(unknown, Count(status, "profilesNotFound"));
            Assert.Equal(0, Count(status, "failedUpdates"));
            // Complete: the spool file goes right after the status says so (never before: it is what a crash resumes from).
            Eventually.WaitUntil(() => Directory.GetFiles(spool).Length == 0, TimeSpan.FromSeconds(10), "the spool file of the complete batch to be deleted");
        }
        Assert.True(peakRss < 300L * 1024 * 1024, $"peak RSS {peakRss / 1024 / 1024} MB");

        using var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var left = 0;
        await foreach (var _ in admin.GetServers()[0].KeysAsync(pattern: $"pu:{{{client}:*", pageSize: 10_000)) left++;
        Assert.Equal(0, left);
        Assert.Equal(0, await admin.GetDatabase().KeyExistsAsync($"pu:be:{{{client}:{System.Web.HttpUtility.ParseQueryString(new Uri(url).Query)["batchId"]}}}") ? 1 : 0);
        Directory.Delete(spool, recursive: true);
    }
}
