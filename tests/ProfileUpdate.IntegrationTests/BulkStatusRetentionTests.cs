using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using System.Xml.Linq;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using ProfileUpdate.Api.Bulk;
using ProfileUpdate.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// A batch's status record (docs/api.md §2, "Statuses are kept") never expires while the batch is still to finish —
/// queued behind another or running — and is kept <c>Bulk:StatusRetention</c> from completion; a spool file whose record
/// is gone all the same is applied from the start under a new record, never dropped as done — unless the file says every
/// row was written (<see cref="BatchJob.AppliedExtension"/>).
/// </summary>
public sealed class BulkStatusRetentionTests
{
    private static readonly TimeSpan Retention = TimeSpan.FromMinutes(1); // the least Bulk:StatusRetention accepts

    private static string StatusKey(string client, string batchId) => $"pu:b:{{{client}:{batchId}}}";

    private static async Task<XElement?> StatusAsync(HttpClient http, string client, string batchId)
    {
        using var response = await http.GetAsync($"/m2/{client}/v2/profile/batchStatus?batchId={batchId}&showDetails=true");
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return XElement.Parse(await response.Content.ReadAsStringAsync());
    }

    /// <summary>The status of a batch once it is complete (within 60 s).</summary>
    private static async Task<XElement> CompleteAsync(HttpClient http, string client, string batchId, string what)
    {
        XElement? status = null;
        await Eventually.WaitUntilAsync(async () => (status = await StatusAsync(http, client, batchId))?.Element("status")!.Value == "complete",
            TimeSpan.FromSeconds(60), what);
        return status!;
    }

    /// <summary>A service on the given spool (which it resumes at start-up), with its bulk processor's log captured.</summary>
    private static ServiceFactory OnSpool(RedisServer redis, string spool, FakeLogger<BulkProcessor> log) =>
        new(redis.ConnectionString, new Dictionary<string, string?> { ["ProfileUpdate:Bulk:SpoolDirectory"] = spool },
            services => services.AddSingleton<ILogger<BulkProcessor>>(log));

    private static long Count(XElement status, string name) => long.Parse(status.Element(name)!.Value, CultureInfo.InvariantCulture);

    [SkippableFact]
    public async Task A_queued_and_a_running_batch_keep_their_records_until_they_finish_then_for_the_retention()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        using var redis = new RedisServer();
        // One batch at a time, slowly (60 chunks, a pause after each), leases renewed every half second.
        await using var factory = new ServiceFactory(redis.ConnectionString, new Dictionary<string, string?>
        {
            ["ProfileUpdate:Bulk:StatusRetention"] = Retention.ToString(),
            ["ProfileUpdate:Bulk:MaxConcurrentBatches"] = "1",
            ["ProfileUpdate:Bulk:ChunkRows"] = "50",
            ["ProfileUpdate:Bulk:ChunksInFlight"] = "1",
            ["ProfileUpdate:Bulk:PauseBetweenChunks"] = "00:00:00.100",
            ["ProfileUpdate:Bulk:LeaseTimeout"] = "00:00:02",
        });
        using var http = factory.CreateHttpClient();
        using var store = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var db = store.GetDatabase();
        var client = Wire.NewClient();

        async Task<string> SubmitAsync(string body)
        {
            using var response = await http.PostAsync($"/m2/{client}/v2/profile/batchUpdate", new StringContent(body, Encoding.UTF8, "text/csv"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return XElement.Parse(await response.Content.ReadAsStringAsync()).Element("batchId")!.Value;
        }

        var longFile = new StringBuilder("batch=thirdPartyId,n\n");
        for (var i = 0; i < 3_000; i++) longFile.Append("long-").Append(i).Append(',').Append(i).Append('\n');
        var running = await SubmitAsync(longFile.ToString());
        var queued = await SubmitAsync("batch=thirdPartyId,tier\nqueued-1,gold\nqueued-2,silver\n");

        // As if both had been accepted a retention ago: their records are about to expire while neither is finished.
        Assert.True(await db.KeyExpireAsync(StatusKey(client, running), TimeSpan.FromMilliseconds(1_500)));
        Assert.True(await db.KeyExpireAsync(StatusKey(client, queued), TimeSpan.FromMilliseconds(1_500)));
        await Task.Delay(TimeSpan.FromSeconds(2.5));

        var waiting = await StatusAsync(http, client, queued);
        Assert.True(waiting is not null, "the queued batch's status expired before it ran");
        Assert.Equal("incomplete", waiting.Element("status")!.Value);
        Assert.True(await db.KeyTimeToLiveAsync(StatusKey(client, queued)) > Retention, "the queued batch's expiry was not renewed");
        var midway = await StatusAsync(http, client, running);
        Assert.True(midway is not null, "the running batch's status expired before it finished");
        Assert.Equal("incomplete", midway.Element("status")!.Value);

        XElement done = null!;
        await Eventually.WaitUntilAsync(async () => (done = (await StatusAsync(http, client, queued))!)?.Element("status")!.Value == "complete",
            TimeSpan.FromSeconds(60), "the queued batch to complete");
        Assert.Equal((2, 2, 2), (Count(done, "batchSize"), Count(done, "successfulUpdates"), Count(done, "profilesCreated")));
        Assert.Equal("silver", Wire.Attribute((await Wire.ReadByThirdPartyAsync(http, client, "queued-2"))!.Value, "tier"));
        var first = (await StatusAsync(http, client, running))!;
        Assert.Equal("complete", first.Element("status")!.Value);
        Assert.Equal((3_000, 3_000), (Count(first, "successfulUpdates"), Count(first, "profilesCreated")));

        // Finished: kept the retention from completion, not from acceptance (then nothing renews it).
        foreach (var batchId in new[] { running, queued })
        {
            var ttl = await db.KeyTimeToLiveAsync(StatusKey(client, batchId));
            Assert.True(ttl > Retention - TimeSpan.FromSeconds(15) && ttl <= Retention, $"{batchId}: expires in {ttl}");
        }
    }

    [SkippableFact]
    public async Task A_spool_file_without_its_status_record_is_applied_from_the_start_under_a_new_record_and_an_upload_never_accepted_is_not()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        using var redis = new RedisServer();
        var client = Wire.NewClient();
        var spool = Directory.CreateTempSubdirectory("pu-orphan-spool-").FullName;
        // Accepted by an instance that was then down for longer than the retention: its file is there, its record gone.
        var batchId = $"{client}-{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}-00000001";
        await File.WriteAllTextAsync(Path.Combine(spool, BatchJob.FileName(batchId, BatchKind.CreateMissing)),
            "batch=thirdPartyId,tier\norphan-1,gold\n\norphan-2,secret-value\norphan%2F3,bad\n");
        // Beside it, an upload the crash cut off (no batch was accepted for it, its last value cut): never applied.
        var cutOff = Path.Combine(spool, BatchJob.FileName($"{client}-{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}-00000002",
            BatchKind.CreateMissing) + BatchJob.SpoolingSuffix);
        await File.WriteAllTextAsync(cutOff, "batch=thirdPartyId,tier\ncut-1,gold\ncut-2,Berl");
        var log = new FakeLogger<BulkProcessor>();

        await using (var factory = OnSpool(redis, spool, log))
        {
            using var http = factory.CreateHttpClient();
            var status = await CompleteAsync(http, client, batchId, "the batch to be applied under a new record");
            Assert.Equal((3, 3, 2, 2, 1), (Count(status, "batchSize"), Count(status, "consumedCount"), Count(status, "successfulUpdates"),
                Count(status, "profilesCreated"), Count(status, "failedUpdates")));
            Assert.Equal("gold", Wire.Attribute((await Wire.ReadByThirdPartyAsync(http, client, "orphan-1"))!.Value, "tier"));
            Assert.NotNull(await Wire.ReadByThirdPartyAsync(http, client, "orphan-2"));
            Eventually.WaitUntil(() => Directory.GetFiles(spool).Length == 0, TimeSpan.FromSeconds(10), "the spool file to be deleted");
            Assert.False(File.Exists(cutOff), "the cut-off upload's file was not removed at start-up");
            Assert.Null(await Wire.ReadByThirdPartyAsync(http, client, "cut-1"));
            Assert.Null(await Wire.ReadByThirdPartyAsync(http, client, "cut-2"));
        }

        var warning = Assert.Single(log.Collector.GetSnapshot(), e => e.Level == LogLevel.Warning);
        Assert.Contains(batchId, warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-value", string.Join('\n', log.Collector.GetSnapshot().Select(e => e.Message)), StringComparison.Ordinal);
        Directory.Delete(spool, recursive: true);
    }

    [SkippableFact]
    public async Task A_spool_file_marked_applied_is_removed_without_its_record_and_resumed_with_it()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        using var redis = new RedisServer();
        var client = Wire.NewClient();
        var spool = Directory.CreateTempSubdirectory("pu-applied-spool-").FullName;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        // Every row written, then the instance killed before the record that completed the batch (or the deletion of
        // the file), and back only after the retention: the record is gone. Applying it again would write old values.
        var expired = $"{client}-{now}-00000001";
        await File.WriteAllTextAsync(Path.Combine(spool, BatchJob.AppliedPath(BatchJob.FileName(expired, BatchKind.CreateMissing))),
            "batch=thirdPartyId,tier\nold-1,bronze\n");
        // Killed between the mark and the completing record, back in time: the record is there, not complete. It resumes
        // from its checkpoint (here the start) and completes with exact counts.
        var resumed = $"{client}-{now}-00000002";
        await using (var first = new ServiceFactory(redis.ConnectionString))
        {
            await first.Services.GetRequiredService<BatchStatusRepository>().CreateAsync(client, resumed, 2, "an-instance-gone");
        }
        var resumedFile = Path.Combine(spool, BatchJob.AppliedPath(BatchJob.FileName(resumed, BatchKind.CreateMissing)));
        await File.WriteAllTextAsync(resumedFile, "batch=thirdPartyId,tier\nres-1,gold\nres-2,silver\n");
        var log = new FakeLogger<BulkProcessor>();

        await using (var factory = OnSpool(redis, spool, log))
        {
            using var http = factory.CreateHttpClient();
            var status = await CompleteAsync(http, client, resumed, "the marked batch with its record to complete");
            Assert.Equal((2, 2, 2), (Count(status, "batchSize"), Count(status, "successfulUpdates"), Count(status, "profilesCreated")));
            Assert.Equal("silver", Wire.Attribute((await Wire.ReadByThirdPartyAsync(http, client, "res-2"))!.Value, "tier"));
            Eventually.WaitUntil(() => Directory.GetFiles(spool).Length == 0, TimeSpan.FromSeconds(10), "both spool files to be deleted");
            Assert.Null(await Wire.ReadByThirdPartyAsync(http, client, "old-1"));
            Assert.Null(await StatusAsync(http, client, expired));
        }

        var removed = Assert.Single(log.Collector.GetSnapshot(), e => e.Message.Contains(expired, StringComparison.Ordinal));
        Assert.Equal(LogLevel.Information, removed.Level);
        Assert.Contains("not applied again", removed.Message, StringComparison.Ordinal);
        Directory.Delete(spool, recursive: true);
    }

    [SkippableFact]
    public async Task A_completed_batch_marks_its_spool_file_applied_then_leaves_none()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        using var redis = new RedisServer();
        await using var factory = new ServiceFactory(redis.ConnectionString, new Dictionary<string, string?>
        {
            ["ProfileUpdate:Bulk:ChunkRows"] = "50",
        });
        using var http = factory.CreateHttpClient();
        // The mark is given between the last chunk's writes and its record: seen here as a rename, before the deletion.
        var renamedTo = new ConcurrentQueue<string>();
        using var watcher = new FileSystemWatcher(factory.SpoolDirectory) { EnableRaisingEvents = true };
        watcher.Renamed += (_, e) => renamedTo.Enqueue(e.Name ?? "");
        var client = Wire.NewClient();
        var file = new StringBuilder("batch=thirdPartyId,n\n");
        for (var i = 0; i < 175; i++) file.Append("done-").Append(i).Append(',').Append(i).Append('\n');
        using var response = await http.PostAsync($"/m2/{client}/v2/profile/batchUpdate", new StringContent(file.ToString(), Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var batchId = XElement.Parse(await response.Content.ReadAsStringAsync()).Element("batchId")!.Value;
        var status = await CompleteAsync(http, client, batchId, "the batch to complete");
        Assert.Equal(175, Count(status, "successfulUpdates"));
        Eventually.WaitUntil(() => Directory.GetFiles(factory.SpoolDirectory).Length == 0, TimeSpan.FromSeconds(10), "the spool file to be deleted");
        Eventually.WaitUntil(() => renamedTo.Contains(BatchJob.AppliedPath(BatchJob.FileName(batchId, BatchKind.CreateMissing))),
            TimeSpan.FromSeconds(5), "the spool file to be marked applied before it was deleted");
    }
}
