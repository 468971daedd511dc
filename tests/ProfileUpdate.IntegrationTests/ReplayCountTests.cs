using System.Diagnostics.Metrics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ProfileUpdate.Api.Profiles;
using ProfileUpdate.Api.Store;
using ProfileUpdate.Api.Updates;
using ProfileUpdate.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace ProfileUpdate.IntegrationTests;

/// <summary>A replayed quota_apply reply whose first reply had arrived (and was counted) must not count its entries again.</summary>
public sealed class ReplayCountTests
{
    [SkippableFact]
    public async Task A_retry_replaying_a_reply_already_received_counts_its_change_entries_once()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        using var redis = new RedisServer();
        await using var proxy = new ReplyDroppingProxy(redis.Port);
        await using var factory = new ServiceFactory(proxy.ConnectionString, new Dictionary<string, string?> { ["ProfileUpdate:Changes:Enabled"] = "true" });
        using var http = factory.CreateHttpClient();
        var client = Wire.NewClient();
        var tnt = await Wire.VisitAsync(http, client, thirdPartyId: Wire.NewId());

        long counted = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) => { if (instrument.Name == "profileupdate.changes.written") l.EnableMeasurementEvents(instrument); };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags) if (tag.Key == "client" && (string?)tag.Value == client) Interlocked.Add(ref counted, value);
        });
        listener.Start();

        var stale = Wire.NewId("stale");
        factory.Services.GetRequiredService<LinkCache>().Add(client, stale, "1700000000000-999999.01_00");
        proxy.ArmDroppingRequest(Encoding.UTF8.GetBytes($"3p:{stale}"));
        using var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var log = factory.Services.GetRequiredService<ProfileLayout>().Log(client, tnt.Split('.')[0]);
        var before = await admin.GetDatabase().ListLengthAsync(log);

        var applier = factory.Services.GetServices<IHostedService>().OfType<UpdateApplier>().Single();
        var red = new UpdateCommand(client, new VisitorIdentity(IdentityKind.TntId, tnt), [new ProfileAttribute("color", "red")], []);
        var viaStale = new UpdateCommand(client, new VisitorIdentity(IdentityKind.ThirdPartyId, stale), [new ProfileAttribute("color", "x")], []);
        await applier.ApplyAsync([red, viaStale]);

        Assert.True(proxy.Tripped);
        Assert.Equal(before + 1, await admin.GetDatabase().ListLengthAsync(log)); // one entry in the feed
        Assert.Equal(1, Interlocked.Read(ref counted)); // and one counted
    }
}
