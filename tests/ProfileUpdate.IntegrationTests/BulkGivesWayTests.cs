using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// A batch gives way to single updates and visits (Bulk:YieldAboveUpdatesPerSecond): while the instance applies more of
/// them per second than the threshold, the batch rests between chunks (the rest is counted in
/// profileupdate_bulk_gave_way_seconds_total) and still completes with exact counts; without single updates it never
/// rests. A real service process on real Redis; the threshold is low (5 per second) so a test's updates cross it even on a
/// loaded machine.
/// </summary>
public sealed class BulkGivesWayTests(BulkGivesWayFixture fixture) : IClassFixture<BulkGivesWayFixture>
{
    private const int Rows = 3_000;

    private static StringContent File(string prefix)
    {
        var file = new StringBuilder("batch=thirdPartyId,n\n");
        for (var i = 0; i < Rows; i++) file.Append(prefix).Append(i).Append(',').Append(i).Append('\n');
        return new StringContent(file.ToString(), Encoding.UTF8, "text/csv");
    }

    private async Task<string> SubmitAsync(string client)
    {
        using var response = await fixture.Client.PostAsync($"/m2/{client}/v2/profile/batchUpdate", File("g"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return XElement.Parse(await response.Content.ReadAsStringAsync()).Element("batchStatus")!.Value;
    }

    private async Task<XElement> WaitCompleteAsync(string url)
    {
        XElement status = null!;
        await Eventually.WaitUntilAsync(async () =>
        {
            status = XElement.Parse(await fixture.Client.GetStringAsync(url + "&showDetails=true"));
            return status.Element("status")!.Value == "complete";
        }, TimeSpan.FromSeconds(120), "the batch to complete", poll: TimeSpan.FromMilliseconds(50));
        return status;
    }

    /// <summary>
    /// The seconds the client's batches rested, or null when the metric has no series for it once the client's bulk rows
    /// show (or, when <paramref name="expected"/>, once the series shows or 30 s have passed).
    /// </summary>
    private async Task<double?> GaveWayAsync(string client, bool expected)
    {
        double? seconds = null;
        // The exporter caches a scrape for a short while: poll until what is looked for shows up.
        await Eventually.TryWaitUntilAsync(async () =>
        {
            var text = await fixture.Client.GetStringAsync("/metrics");
            var match = Regex.Match(text, $"(?m)^profileupdate_bulk_gave_way_seconds_total{{[^}}]*client=\"{client}\"[^}}]*}} (\\S+)$");
            seconds = match.Success ? double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : null;
            return match.Success || !expected && Regex.IsMatch(text, $"profileupdate_bulk_rows_total{{[^}}]*client=\"{client}\"");
        }, TimeSpan.FromSeconds(30), poll: TimeSpan.FromMilliseconds(200));
        return seconds;
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_batch_rests_between_chunks_while_single_updates_or_visits_are_busy_and_still_counts_exactly(bool visits)
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        var client = Wire.NewClient();
        await Wire.VisitAsync(fixture.Client, client, thirdPartyId: "busy");

        using var stop = new CancellationTokenSource();
        long sent = 0, refused = 0;
        async Task UpdateLoopAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                var n = Interlocked.Increment(ref sent);
                if (visits)
                {
                    await Wire.VisitAsync(fixture.Client, client, thirdPartyId: "busy",
                        parameters: new Dictionary<string, string> { ["n"] = n.ToString(CultureInfo.InvariantCulture) });
                    continue;
                }
                using var response = await fixture.Client.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId=busy&profile.n={n}");
                if (response.StatusCode != HttpStatusCode.OK) Interlocked.Increment(ref refused);
            }
        }
        var loops = Enumerable.Range(0, 8).Select(_ => Task.Run(UpdateLoopAsync)).ToList();
        // Let the updates run for over a second first: the rate the batch looks at counts whole seconds.
        await Eventually.WaitUntilAsync(() => Task.FromResult(Interlocked.Read(ref sent) > 200), TimeSpan.FromSeconds(30), "single updates to flow");
        await Task.Delay(TimeSpan.FromSeconds(1.2));

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var status = await WaitCompleteAsync(await SubmitAsync(client));
        var applying = watch.Elapsed;
        var sentWhileApplying = Interlocked.Read(ref sent);
        await stop.CancelAsync();
        await Task.WhenAll(loops);

        Assert.Equal(0, Interlocked.Read(ref refused));
        Assert.Equal(Rows.ToString(CultureInfo.InvariantCulture), status.Element("successfulUpdates")!.Value);
        Assert.Equal(Rows.ToString(CultureInfo.InvariantCulture), status.Element("profilesCreated")!.Value);
        Assert.Equal("2999", Wire.Attribute((await Wire.ReadByThirdPartyAsync(fixture.Client, client, "g2999"))!.Value, "n"));
        var rested = await GaveWayAsync(client, expected: true);
        Assert.True(rested > 0, $"the batch should have rested between chunks while {(visits ? "visits" : "single updates")} ran " +
            $"(gave_way: {rested?.ToString(CultureInfo.InvariantCulture) ?? "none"}; applied in {applying.TotalSeconds:0.00} s; " +
            $"{sentWhileApplying} {(visits ? "visits" : "updates")} sent by then)");
    }

    [SkippableFact]
    public async Task Without_single_updates_a_batch_never_rests()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        // The rate a batch looks at reaches back up to two seconds: the other test's updates must have aged out first.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        var client = Wire.NewClient();
        var status = await WaitCompleteAsync(await SubmitAsync(client));
        Assert.Equal(Rows.ToString(CultureInfo.InvariantCulture), status.Element("successfulUpdates")!.Value);
        Assert.Null(await GaveWayAsync(client, expected: false));
    }
}

/// <summary>
/// A service process of its own (its /metrics its own, see <see cref="ServiceProcessFixture"/>): the other test classes'
/// single updates must not make these batches give way.
/// </summary>
public sealed class BulkGivesWayFixture() : ServiceProcessFixture(new Dictionary<string, string>
{
    ["ProfileUpdate__Bulk__YieldAboveUpdatesPerSecond"] = "5",
    ["ProfileUpdate__Bulk__ChunkRows"] = "50",
});
