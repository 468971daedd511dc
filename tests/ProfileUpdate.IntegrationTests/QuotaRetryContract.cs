using Microsoft.Extensions.DependencyInjection;
using ProfileUpdate.Api.Profiles;
using ProfileUpdate.Api.Quota;
using ProfileUpdate.Api.Store;
using ProfileUpdate.Api.Updates;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// A quota call sent again — the applier's retry after its connection broke, when the first send may have run and only
/// its reply was lost — answers exactly what the first send got and takes nothing more: no second unit, no 429 for units
/// it took itself, and (quota_apply.lua, quota and writes in one call) no second write or change-feed entry. A send whose
/// first one never ran (no reply marker) runs as usual. QuotaRepository on real Redis, the embedded store and a Redis
/// Cluster; QuotaApplyCall (standalone only) on the first two. The change feed is on, so its entries can be counted.
/// </summary>
public abstract class QuotaRetryContract(StoreServiceFixture fixture) : MarkedCallContract(fixture)
{
    protected QuotaRepository Quota => Fixture.Services.GetRequiredService<QuotaRepository>();

    protected QuotaApplyCall QuotaApply => Fixture.Services.GetRequiredService<QuotaApplyCall>();

    [SkippableFact]
    public async Task A_quota_call_sent_again_answers_its_first_decision_and_takes_nothing_more()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var call = new QuotaCall(client);
        var first = await Quota.ConsumeAsync(client, 10, 3, call);
        Assert.Equal((3, 7), (first.Admitted, first.Remaining));
        var again = await Quota.ConsumeAsync(client, 10, 3, call);
        Assert.Equal(first, again);
        Assert.Equal(7, (await Quota.TryPeekAsync(client, 10))!.Value.Remaining);

        // At the limit's edge: the first send took the last units, the retry is not refused for them.
        var last = new QuotaCall(client);
        Assert.Equal((7, 0), Pair(await Quota.ConsumeAsync(client, 10, 7, last)));
        Assert.Equal((7, 0), Pair(await Quota.ConsumeAsync(client, 10, 7, last)));

        // Another call is another call: refused, the quota being used up.
        Assert.Equal(0, (await Quota.ConsumeAsync(client, 10, 1, new QuotaCall(client))).Admitted);
    }

    [SkippableFact]
    public async Task A_retry_whose_first_send_never_ran_or_whose_marker_is_gone_runs_as_usual()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();

        // The first send never reached the store: the retry finds no marker and takes its units.
        var unsent = new QuotaCall(client);
        _ = unsent.NextSend();
        Assert.Equal((2, 8), Pair(await Quota.ConsumeAsync(client, 10, 2, unsent)));
        Assert.Equal(8, (await Quota.TryPeekAsync(client, 10))!.Value.Remaining);

        // The marker lives for the retry window, then goes; gone, a retry runs again (units taken again).
        var call = new QuotaCall(client);
        await Quota.ConsumeAsync(client, 10, 3, call);
        await AssertExpiresWithinRetryWindowAsync(call);
        await Db.KeyDeleteAsync(call.MarkerKey);
        Assert.Equal((3, 2), Pair(await Quota.ConsumeAsync(client, 10, 3, call)));
    }

    protected static (long Admitted, long Remaining) Pair(QuotaDecision decision) => (decision.Admitted, decision.Remaining);
}

/// <summary>quota_apply.lua's part of the contract: standalone stores only (on a cluster the quota and the profiles are in
/// different slots, so the two scripts run separately and QuotaRepository's part above covers the quota).</summary>
public abstract class QuotaApplyRetryContract(StoreServiceFixture fixture) : QuotaRetryContract(fixture)
{
    [SkippableFact]
    public async Task A_quota_apply_call_sent_again_answers_its_first_reply_and_writes_nothing_more()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var known = await Wire.VisitAsync(Http, client, thirdPartyId: Wire.NewId());
        var gone = "1700000000000-000001.01_00"; // no profile: update-only, nothing written
        var log = Fixture.Services.GetRequiredService<ProfileLayout>().Log(client, known.Split('.')[0]);
        var entriesBefore = await Db.ListLengthAsync(log);

        // A unit with a write to a known profile, one whose visitor is unknown (no write, still a unit), one for a
        // profile that does not exist; then a unit past the limit.
        ProfileWrite?[] units = [Update(client, known, "first"), null, Update(client, gone, "x"), Update(client, known, "past-limit")];
        var call = new QuotaCall(client);
        var (decision, results) = await QuotaApply.RunAsync(client, 3, units, call);
        Assert.Equal((3, 0), Pair(decision));
        Assert.Equal([WriteResult.Applied, WriteResult.ProfileNotFound], results);
        Assert.Equal(entriesBefore + 1, await Db.ListLengthAsync(log));
        await AssertExpiresWithinRetryWindowAsync(call);

        // The profile changes in between (a request under the service's own, larger limit: one more unit and entry);
        // the retry must not write its value over it again.
        using (var later = await Http.GetAsync($"/m2/{client}/profile/update?mboxPC={known}&profile.v=later"))
            Assert.Equal("applied", Assert.Single(later.Headers.GetValues("X-Profile-Update")));
        var entriesAfterLater = await Db.ListLengthAsync(log);
        Assert.Equal(entriesBefore + 2, entriesAfterLater);

        var (decisionAgain, resultsAgain) = await QuotaApply.RunAsync(client, 3, units, call);
        Assert.Equal(decision, decisionAgain);
        Assert.Equal(results, resultsAgain);
        Assert.Equal("later", Wire.Attribute((await Wire.ReadByTntAsync(Http, client, known))!.Value, "v"));
        Assert.Equal(entriesAfterLater, await Db.ListLengthAsync(log));
        Assert.Equal(100 - 4, (await Quota.TryPeekAsync(client, 100))!.Value.Remaining); // 3 units, and 1 for "later"
    }

    [SkippableFact]
    public async Task A_quota_apply_retry_at_the_limit_edge_answers_applied_for_what_the_first_send_wrote()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var a = await Wire.VisitAsync(Http, client, thirdPartyId: Wire.NewId());
        var b = await Wire.VisitAsync(Http, client, thirdPartyId: Wire.NewId());
        ProfileWrite?[] units = [Update(client, a, "1"), Update(client, b, "2")];

        var call = new QuotaCall(client);
        var (decision, results) = await QuotaApply.RunAsync(client, 2, units, call);
        Assert.Equal((2, 0), Pair(decision));
        Assert.Equal([WriteResult.Applied, WriteResult.Applied], results);

        var (again, againResults) = await QuotaApply.RunAsync(client, 2, units, call);
        Assert.Equal(decision, again);
        Assert.Equal(results, againResults);

        // Without its marker (a new call) the same units would have been refused: what the retry answers is the first send's.
        Assert.Equal(0, (await QuotaApply.RunAsync(client, 2, units, new QuotaCall(client))).Decision.Admitted);
    }

    [SkippableFact]
    public async Task A_quota_apply_retry_whose_first_send_never_ran_runs_as_usual()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var known = await Wire.VisitAsync(Http, client, thirdPartyId: Wire.NewId());
        var call = new QuotaCall(client);
        _ = call.NextSend();
        var (decision, results) = await QuotaApply.RunAsync(client, 5, [Update(client, known, "retried")], call);
        Assert.Equal((1, 4), Pair(decision));
        Assert.Equal([WriteResult.Applied], results);
        Assert.Equal("retried", Wire.Attribute((await Wire.ReadByTntAsync(Http, client, known))!.Value, "v"));
    }
}

public sealed class QuotaRetryOnRedisFixture() : StoreServiceFixture(StoreKind.Redis, Settings)
{
    public static readonly IReadOnlyDictionary<string, string?> Settings = new Dictionary<string, string?> { ["ProfileUpdate:Changes:Enabled"] = "true" };
}

public sealed class QuotaRetryOnEmbeddedFixture() : StoreServiceFixture(StoreKind.Embedded, QuotaRetryOnRedisFixture.Settings);

public sealed class QuotaRetryOnClusterFixture() : StoreServiceFixture(StoreKind.Cluster, QuotaRetryOnRedisFixture.Settings);

public sealed class QuotaRetryOnRedis(QuotaRetryOnRedisFixture fixture) : QuotaApplyRetryContract(fixture), IClassFixture<QuotaRetryOnRedisFixture>;

public sealed class QuotaRetryOnEmbeddedStore(QuotaRetryOnEmbeddedFixture fixture) : QuotaApplyRetryContract(fixture), IClassFixture<QuotaRetryOnEmbeddedFixture>;

public sealed class QuotaRetryOnRedisCluster(QuotaRetryOnClusterFixture fixture) : QuotaRetryContract(fixture), IClassFixture<QuotaRetryOnClusterFixture>;
