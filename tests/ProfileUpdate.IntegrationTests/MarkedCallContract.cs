using Microsoft.Extensions.DependencyInjection;
using ProfileUpdate.Api.Profiles;
using ProfileUpdate.Api.Store;
using ProfileUpdate.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// The calls with reply markers (<see cref="MarkedCall"/>), on a store of their own with the change feed on: what their
/// contracts share, and the apply calls' part. The applier's apply calls outside quota_apply.lua (one per hash slot on a
/// Redis Cluster, every call with the quota off, the rewrite through a stale link) carry a marker of their own with the
/// feed on: sent again — the applier's retry after its connection broke, when the first send may have run and only its
/// reply was lost — a call answers its first run's results and writes and logs nothing more, so the feed holds each
/// change once. A send whose first one never ran (no marker) runs as usual. ProfileRepository's WritePlan on real Redis,
/// the embedded store and a Redis Cluster (through <see cref="QuotaRetryContract"/>'s classes, whose fixtures these
/// share); the connection really cut under the service is in LostReplyTests.
/// </summary>
public abstract class MarkedCallContract(StoreServiceFixture fixture)
{
    protected StoreServiceFixture Fixture { get; } = fixture;

    protected HttpClient Http => Fixture.Client;

    protected IDatabase Db => Fixture.Store.GetDatabase();

    protected void SkipWithoutStore() => Skip.If(Fixture.SkipReason is not null, Fixture.SkipReason);

    private ProfileRepository Profiles => Fixture.Services.GetRequiredService<ProfileRepository>();

    private ProfileLayout Layout => Fixture.Services.GetRequiredService<ProfileLayout>();

    protected static ProfileWrite Update(string client, string tnt, string value) =>
        new(client, tnt, null, WriteMode.UpdateOnly, [new("v", value)]);

    /// <summary>The marker carries an expiry no longer than the store's retry window (SET … PX in the script, every store).</summary>
    protected async Task AssertExpiresWithinRetryWindowAsync(MarkedCall call)
    {
        var window = Fixture.Services.GetRequiredService<StoreConnections>().RetryWindow;
        var ttl = await Db.KeyTimeToLiveAsync(call.MarkerKey);
        Assert.True(ttl is { } t && t > TimeSpan.Zero && t <= window, $"marker TTL {ttl}, retry window {window}");
    }

    [SkippableFact]
    public async Task Apply_calls_sent_again_after_they_ran_answer_their_first_results_and_log_nothing_more()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        // Profiles in several partitions (on a cluster several calls, one per slot), and one that does not exist.
        var known = new List<string>();
        for (var i = 0; i < 6; i++) known.Add(await Wire.VisitAsync(Http, client, thirdPartyId: Wire.NewId()));
        var writes = known.Select(t => Update(client, t, "first")).Append(Update(client, "1700000000000-000001.01_00", "x")).ToList();
        var entriesBefore = await EntriesAsync(client, known);

        var plan = Profiles.PlanWrite(writes, markers: true);
        Assert.All(plan.Calls, call => Assert.NotNull(call.Marker));
        var results = new WriteResult[writes.Count];
        await Profiles.WriteAsync(plan, results);
        Assert.Equal([.. known.Select(_ => WriteResult.Applied), WriteResult.ProfileNotFound], results);
        Assert.Equal(entriesBefore + known.Count, await EntriesAsync(client, known));
        foreach (var call in plan.Calls) await AssertExpiresWithinRetryWindowAsync(call.Marker!);

        // The profile changes in between (a single update, acknowledged); the retry must not write its value over it again.
        using (var later = await Http.GetAsync($"/m2/{client}/profile/update?mboxPC={known[0]}&profile.v=later"))
            Assert.Equal("applied", Assert.Single(later.Headers.GetValues("X-Profile-Update")));
        var entriesAfterLater = entriesBefore + known.Count + 1;
        Assert.Equal(entriesAfterLater, await EntriesAsync(client, known));

        LoseReplies(plan);
        var again = new WriteResult[writes.Count];
        await Profiles.WriteAsync(plan, again);
        Assert.Equal(results, again);
        Assert.Equal("later", Wire.Attribute((await Wire.ReadByTntAsync(Http, client, known[0]))!.Value, "v"));
        Assert.Equal(entriesAfterLater, await EntriesAsync(client, known));
    }

    [SkippableFact]
    public async Task An_apply_call_sent_again_whose_first_send_never_ran_runs_as_usual()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var known = await Wire.VisitAsync(Http, client, thirdPartyId: Wire.NewId());
        var entriesBefore = await EntriesAsync(client, [known]);
        var plan = Profiles.PlanWrite([Update(client, known, "retried")], markers: true);
        _ = Assert.Single(plan.Calls).Marker!.NextSend(); // the first send never reached the store

        var results = new WriteResult[1];
        await Profiles.WriteAsync(plan, results);
        Assert.Equal([WriteResult.Applied], results);
        Assert.Equal("retried", Wire.Attribute((await Wire.ReadByTntAsync(Http, client, known))!.Value, "v"));
        Assert.Equal(entriesBefore + 1, await EntriesAsync(client, [known]));
    }

    [SkippableFact]
    public async Task A_call_whose_reply_arrived_is_not_sent_again()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var known = await Wire.VisitAsync(Http, client, thirdPartyId: Wire.NewId());
        var plan = Profiles.PlanWrite([Update(client, known, "first")], markers: true);
        var results = new WriteResult[1];
        await Profiles.WriteAsync(plan, results);
        using (var later = await Http.GetAsync($"/m2/{client}/profile/update?mboxPC={known}&profile.v=later"))
            Assert.Equal("applied", Assert.Single(later.Headers.GetValues("X-Profile-Update")));
        var entries = await EntriesAsync(client, [known]);
        // Its marker gone too: only the reply the plan kept can answer, so nothing reaches the store.
        await Db.KeyDeleteAsync(Assert.Single(plan.Calls).Marker!.MarkerKey);

        await Profiles.WriteAsync(plan, results);
        Assert.Equal([WriteResult.Applied], results);
        Assert.Equal("later", Wire.Attribute((await Wire.ReadByTntAsync(Http, client, known))!.Value, "v"));
        Assert.Equal(entries, await EntriesAsync(client, [known]));
    }

    /// <summary>The replies of the plan's calls never arrived (the connection broke): a later send goes to the store.</summary>
    private static void LoseReplies(WritePlan plan)
    {
        foreach (var call in plan.Calls) call.Reply = null;
    }

    /// <summary>The entries in the change logs of these profiles (one log on a standalone store, one per partition on a cluster).</summary>
    private async Task<long> EntriesAsync(string client, IEnumerable<string> tnts)
    {
        long entries = 0;
        foreach (var log in tnts.Select(t => Layout.Log(client, VisitorIds.TntBase(t))).Distinct())
            entries += await Db.ListLengthAsync(log);
        return entries;
    }
}

/// <summary>With the change feed off the apply calls keep their cost: no reply marker is made or written.</summary>
public sealed class ApplyWithoutFeedTests(ApplyWithoutFeedTests.Fixture fixture) : IClassFixture<ApplyWithoutFeedTests.Fixture>
{
    public sealed class Fixture() : StoreServiceFixture(StoreKind.Redis);

    [SkippableFact]
    public async Task Without_the_feed_a_plan_carries_no_marker_and_the_store_gets_none()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        var client = Wire.NewClient();
        var known = await Wire.VisitAsync(fixture.Client, client, thirdPartyId: Wire.NewId());
        var profiles = fixture.Services.GetRequiredService<ProfileRepository>();
        var plan = profiles.PlanWrite([new ProfileWrite(client, known, null, WriteMode.UpdateOnly, [new("v", "1")])], markers: true);
        Assert.Null(Assert.Single(plan.Calls).Marker);
        var results = new WriteResult[1];
        await profiles.WriteAsync(plan, results);
        Assert.Equal([WriteResult.Applied], results);
        Assert.Empty(await fixture.KeysAsync($"pu:r:{{{client}:*"));
    }
}
