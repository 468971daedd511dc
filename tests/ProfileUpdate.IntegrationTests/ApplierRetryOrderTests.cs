using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ProfileUpdate.Api.Profiles;
using ProfileUpdate.Api.Updates;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// The applier's retry after a broken connection must not write again an update it has already acknowledged: the client
/// may have sent a newer value for the same attribute since (to this or another instance), and a second write of the
/// older value would silently undo an acknowledged update. Quota off (two-step path on standalone Redis; the same on a
/// cluster): the connection breaks in the stale-link rewrite, after the batch's other updates were answered 200.
/// </summary>
public sealed class ApplierRetryOrderTests
{
    [SkippableFact]
    public async Task A_retry_after_a_broken_connection_does_not_rewrite_an_update_already_answered()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        using var redis = new RedisServer();
        await using var proxy = new ReplyDroppingProxy(redis.Port);
        var settings = new Dictionary<string, string?> { ["ProfileUpdate:Quota:Enabled"] = "false" };
        await using var instanceA = new ServiceFactory(proxy.ConnectionString, settings);
        await using var instanceB = new ServiceFactory(redis.ConnectionString, settings);
        using var httpA = instanceA.CreateHttpClient();
        using var httpB = instanceB.CreateHttpClient();

        var client = Wire.NewClient();
        var tnt = await Wire.VisitAsync(httpA, client, thirdPartyId: Wire.NewId());
        // A thirdPartyId A remembers as linked to a profile that is gone: its write finds nothing, so the applier
        // forgets the link and looks it up again (RetryStaleLinksAsync) after answering the batch's other updates.
        var stale = Wire.NewId("stale");
        instanceA.Services.GetRequiredService<LinkCache>().Add(client, stale, "1700000000000-999999.01_00");
        // The lookup's MGET is the only request naming the link key: held back; meanwhile the client, told 200 for
        // color=red, sets color=blue through instance B (acknowledged); then the connection is cut under the lookup.
        HttpStatusCode? newer = null;
        proxy.ArmDroppingRequest(Encoding.UTF8.GetBytes($"3p:{stale}"), async () =>
        {
            using var response = await httpB.GetAsync($"/m2/{client}/profile/update?mboxPC={tnt}&profile.color=blue");
            newer = response.StatusCode;
        });

        var applier = instanceA.Services.GetServices<IHostedService>().OfType<UpdateApplier>().Single();
        var red = new UpdateCommand(client, new VisitorIdentity(IdentityKind.TntId, tnt), [new ProfileAttribute("color", "red")], []);
        var viaStale = new UpdateCommand(client, new VisitorIdentity(IdentityKind.ThirdPartyId, stale), [new ProfileAttribute("color", "x")], []);
        await applier.ApplyAsync([red, viaStale]);

        Assert.True(proxy.Tripped, "the proxy never cut the lookup's connection; the test proves nothing");
        Assert.Equal(HttpStatusCode.OK, newer);
        Assert.Equal(UpdateStatus.Applied, red.Outcome.Status);
        Assert.Equal("blue", Wire.Attribute((await Wire.ReadByTntAsync(httpB, client, tnt))!.Value, "color"));
    }
}
