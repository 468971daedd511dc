using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Store;
using System.Globalization;
using System.Net;
using System.Text;
using System.Xml.Linq;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// Crash safety of asynchronous bulk with real processes and a real Redis (docs/api.md §2, "Crash safety"): an
/// acknowledged batch survives SIGKILL mid-way and completes, on restart with the same spool, with exactly the counts
/// of an uninterrupted run; a batch whose instance never returns shows "stuck" once its lease lapses.
/// </summary>
[Collection(nameof(ProcessLevelTests))] // heavy: one at a time with the other process tests
public sealed class BulkCrashTests
{
    private const int Rows = 200_000;
    private const int BadEvery = 20_000; // rows whose id cell is invalid: their failure must be counted and listed once

    private static string File(out int bad)
    {
        var file = new StringBuilder("batch=thirdPartyId,tier,n\n");
        bad = 0;
        for (var i = 0; i < Rows; i++)
        {
            if (i % BadEvery == BadEvery - 1) { file.Append("bad%2Fid-").Append(i).Append(",gold,").Append(i).Append('\n'); bad++; }
            else file.Append("crm-").Append(i).Append(",gold,").Append(i).Append('\n');
        }
        return file.ToString();
    }

    private static async Task<XElement> StatusAsync(HttpClient http, string url)
    {
        var local = new Uri(url);
        using var response = await http.GetAsync(local.PathAndQuery + "&showDetails=true");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return XElement.Parse(await response.Content.ReadAsStringAsync());
    }

    private static long Count(XElement status, string name) => long.Parse(status.Element(name)!.Value, CultureInfo.InvariantCulture);

    [SkippableTheory]
    [InlineData("SIGKILL")]
    [InlineData("SIGTERM")] // a graceful stop ends at a chunk boundary and leaves the batch to the next start
    public async Task A_batch_stopped_mid_way_resumes_on_restart_and_ends_with_the_counts_of_an_uninterrupted_run(string signal)
    {
        Skip.If(!RedisServer.IsAvailable, RedisServer.SkipReason);
        using var redis = new RedisServer();
        var spool = Directory.CreateTempSubdirectory("pu-crash-spool-").FullName;
        var settings = new Dictionary<string, string> { ["ProfileUpdate__Bulk__SpoolDirectory"] = spool };
        var client = Wire.NewClient();
        var content = File(out var bad);
        string url;

        using (var first = await ServiceProcess.StartAsync(redis.ConnectionString, settings))
        {
            using var http = new HttpClient { BaseAddress = first.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
            using var response = await http.PostAsync($"/m2/{client}/v2/profile/batchUpdate", new StringContent(content, Encoding.UTF8, "text/csv"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            url = XElement.Parse(await response.Content.ReadAsStringAsync()).Element("batchStatus")!.Value;
            // Kill it part-way: some chunks recorded, more in flight.
            await Eventually.WaitUntilAsync(async () => Count(await StatusAsync(http, url), "consumedCount") >= 20_000,
                TimeSpan.FromSeconds(120), "the batch to be part-way", poll: TimeSpan.FromMilliseconds(10));
            if (signal == "SIGKILL") first.Kill();
            else Assert.True(first.Terminate(TimeSpan.FromSeconds(30)), "the service did not stop within 30 s of SIGTERM");
        }
        var batchId = System.Web.HttpUtility.ParseQueryString(new Uri(url).Query)["batchId"]!;
        using (var peek = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.ConnectionString))
        {
            var consumed = (long)await peek.GetDatabase().HashGetAsync($"pu:b:{{{client}:{batchId}}}", "consumed");
            Assert.True(consumed < Rows, "the batch finished before the kill; the test needs a larger file");
        }
        Assert.Single(Directory.GetFiles(spool)); // under either name: the last chunk may have been written, not recorded

        using (var second = await ServiceProcess.StartAsync(redis.ConnectionString, settings))
        {
            using var http = new HttpClient { BaseAddress = second.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            XElement status = null!;
            await Eventually.WaitUntilAsync(async () => (status = await StatusAsync(http, url)).Element("status")!.Value == "complete",
                TimeSpan.FromSeconds(180), "the resumed batch to complete");

            Assert.Equal(Rows, Count(status, "batchSize"));
            Assert.Equal(Rows, Count(status, "consumedCount"));
            Assert.Equal(Rows - bad, Count(status, "successfulUpdates"));
            Assert.Equal(Rows - bad, Count(status, "profilesCreated"));
            Assert.Equal(0, Count(status, "profilesNotFound"));
            Assert.Equal(bad, Count(status, "failedUpdates"));
            var failed = status.Elements("profile").Select(p => p.Element("row")!.Value).ToList();
            Assert.Equal(bad, failed.Count);
            Assert.Equal(failed.Distinct().Count(), failed.Count);
            // Complete: the spool file goes right after the status says so (never before: it is what a crash resumes from).
            Eventually.WaitUntil(() => Directory.GetFiles(spool).Length == 0, TimeSpan.FromSeconds(10), "the spool file of the complete batch to be deleted");

            // Every row's value is readable: the links and values of all valid rows, straight from Redis.
            using var admin = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
            var server = admin.GetServers()[0];
            var links = 0;
            await foreach (var _ in server.KeysAsync(pattern: $"pu:{{{client}:3p:*", pageSize: 10_000)) links++;
            Assert.Equal(Rows - bad, links);
            foreach (var i in new[] { 0, 1, 19_998, 100_001, Rows - 2 })
            {
                var profile = await Wire.ReadByThirdPartyAsync(http, client, $"crm-{i}");
                var link = (string?)await admin.GetDatabase().StringGetAsync($"pu:{{{client}:3p:crm-{i}}}");
                var hash = link is null ? [] : await admin.GetDatabase().HashGetAllAsync(RedisKeys.Profile(client, link.Split('.')[0], ProfilesOptions.DefaultPartitions));
                Assert.True(profile is not null, $"crm-{i}: link {link}, hash {string.Join(", ", hash.Select(h => h.Name + "=" + h.Value))}");
                Assert.Equal(i.ToString(CultureInfo.InvariantCulture), Wire.Attribute(profile.Value, "n"));
            }
        }
        Directory.Delete(spool, recursive: true);
    }

    [SkippableFact]
    public async Task A_batch_whose_instance_never_returns_shows_stuck_with_a_message_after_the_lease_timeout()
    {
        Skip.If(!RedisServer.IsAvailable, RedisServer.SkipReason);
        using var redis = new RedisServer();
        var client = Wire.NewClient();
        var content = File(out _);
        string url;
        using (var doomed = await ServiceProcess.StartAsync(redis.ConnectionString,
                   new Dictionary<string, string> { ["ProfileUpdate__Bulk__LeaseTimeout"] = "00:00:03" }))
        {
            using var http = new HttpClient { BaseAddress = doomed.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
            using var response = await http.PostAsync($"/m2/{client}/v2/profile/batchUpdate", new StringContent(content, Encoding.UTF8, "text/csv"));
            url = XElement.Parse(await response.Content.ReadAsStringAsync()).Element("batchStatus")!.Value;
            await Eventually.WaitUntilAsync(async () => Count(await StatusAsync(http, url), "consumedCount") > 0,
                TimeSpan.FromSeconds(120), "the batch to start", poll: TimeSpan.FromMilliseconds(10));
            doomed.Kill();
        }

        // Another instance (its own spool: it does not resume this batch) reports it.
        using var other = await ServiceProcess.StartAsync(redis.ConnectionString);
        using var otherHttp = new HttpClient { BaseAddress = other.BaseAddress };
        XElement status = null!;
        await Eventually.WaitUntilAsync(async () => (status = await StatusAsync(otherHttp, url)).Element("status")!.Value == "stuck",
            TimeSpan.FromSeconds(60), "the batch to show stuck");
        Assert.Contains("resubmit", status.Element("message")!.Value, StringComparison.Ordinal);
        Assert.True(Count(status, "consumedCount") < Rows);
    }
}
