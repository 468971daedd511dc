using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// docs/api.md §9: an open Server-Sent Event stream outlives a store that stalls for a while. The store's process is
/// frozen (SIGSTOP) with a stream open, long enough for several reads to time out: the stream stays open, its
/// heartbeats keep their pace, no 500 and no Error is logged (a Warning names the failure's type only), and once the
/// store runs again the stream delivers what is written. Real Redis of its own: the pause would stall other tests.
/// </summary>
public sealed class ChangeFeedStoreStallTests
{
    [SkippableFact]
    public async Task A_stream_stays_open_through_a_store_stall_keeps_alive_and_delivers_afterwards()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        Skip.If(OperatingSystem.IsWindows(), "SIGSTOP freezes the store's process on Unix only.");
        using var redis = new RedisServer();
        var logs = new FakeLogCollector();
        var settings = new Dictionary<string, string?>(ChangeFeedOnRedisFixture.Settings) { ["ProfileUpdate:Changes:PollInterval"] = "00:00:00.250" };
        await using var factory = new ServiceFactory(redis.ConnectionString, settings, services =>
            // The service logs through Serilog, which ignores other providers: this factory (registered last, so it wins)
            // sends every category's lines to the test instead.
            services.AddSingleton(_ => TestLogging.To(logs, LogLevel.Information)));
        using var http = factory.CreateHttpClient();
        var client = Wire.NewClient();
        await Wire.VisitAsync(http, client, thirdPartyId: "stall-1", parameters: new Dictionary<string, string> { ["secret"] = "hush-value" });
        using var stream = await SseReader.OpenAsync(http, $"/rest/v1/changes?client={client}");
        Assert.Equal("created", (await stream.NextEventAsync()).Event);

        // Frozen for 12 s: with the store's 1.5 s timeout, every read of the stream fails meanwhile — five in a row, long
        // enough for a back-off that doubled without a low bound to be asleep for seconds when the store comes back.
        redis.Pause();
        (List<TimeSpan> Gaps, bool Ended) stalled;
        try
        {
            stalled = await stream.GapsAsync(TimeSpan.FromSeconds(12));
        }
        finally
        {
            redis.Resume();
        }
        Assert.False(stalled.Ended, "the stream ended while the store stalled");
        Assert.True(stalled.Gaps.Count >= 4, $"{stalled.Gaps.Count} gaps in 12 s");
        ChangeFeedContract.AssertWithinHeartbeat(stalled.Gaps);

        // The store runs again: a change made now reaches the same stream, within the second §9 promises — the stream's
        // back-off after twelve seconds of failed reads is no longer than its poll interval, and this instance's write ends it.
        await Eventually.WaitUntilAsync(async () =>
        {
            using var update = await http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId=stall-1&profile.after=1");
            return update.StatusCode == HttpStatusCode.OK;
        }, TimeSpan.FromSeconds(30), "an update to apply once the store runs again");
        var written = Stopwatch.StartNew();
        var next = await stream.NextEventAsync();
        var delivered = written.Elapsed;
        Assert.Equal("updated", next.Event);
        Assert.True(delivered < TimeSpan.FromSeconds(1), $"the change reached the stream {delivered.TotalMilliseconds:0} ms after its 200");
        Assert.Equal("1", JsonDocument.Parse(next.Data).RootElement.GetProperty("set").GetProperty("after").GetString());

        Assert.DoesNotContain(logs.GetSnapshot(), e => e.Level >= LogLevel.Error);
        var warnings = logs.GetSnapshot().Where(e => e.Category is { } category && category.EndsWith(".ChangeStream", StringComparison.Ordinal) && e.Level == LogLevel.Warning).ToList();
        Assert.True(warnings.Count == 1, "the stream's warnings: " + string.Join("\n", logs.GetSnapshot().Select(e => $"{e.Level} {e.Category}: {e.Message}")));
        var warning = warnings[0];
        Assert.Null(warning.Exception);
        Assert.Contains("Exception", warning.Message, StringComparison.Ordinal);
        Assert.All(logs.GetSnapshot(), e => Assert.DoesNotContain("hush-value", e.Message, StringComparison.Ordinal));
        Assert.All(logs.GetSnapshot().Where(e => e.Category is { } category && category.EndsWith(".ChangeStream", StringComparison.Ordinal)),
            e => Assert.DoesNotContain(client, e.Message, StringComparison.Ordinal));
    }
}
