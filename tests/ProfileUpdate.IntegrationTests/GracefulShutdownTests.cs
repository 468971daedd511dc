using System.Net;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>Stopping the host under load answers every accepted request and loses no acknowledged update.</summary>
public sealed class GracefulShutdownTests
{
    [SkippableFact]
    public async Task Stopping_under_load_drains_the_queue_and_loses_no_acknowledged_update()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        using var redis = new RedisServer();
        var client = Wire.NewClient();
        var ids = Enumerable.Range(0, 300).Select(i => $"v{i}").ToArray();

        var acknowledged = new List<string>();
        await using (var factory = new ServiceFactory(redis.ConnectionString))
        {
            using var http = factory.CreateHttpClient();
            await Task.WhenAll(ids.Select(id => Wire.VisitAsync(http, client, thirdPartyId: id)));

            var load = ids.Select(async id =>
            {
                try
                {
                    using var r = await http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId={id}&profile.mark={id}");
                    Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"unexpected {r.StatusCode}");
                    return r.StatusCode == HttpStatusCode.OK ? id : null;
                }
                catch (HttpRequestException)
                {
                    return null; // not accepted: the server had stopped listening
                }
            }).ToArray();
            // Stop once the first update has been answered: the service is demonstrably taking load, most still in flight.
            await Task.WhenAny(load).WaitAsync(TimeSpan.FromSeconds(60));
            await factory.DisposeAsync(); // StopAsync: the server stops, then the applier drains
            foreach (var id in await Task.WhenAll(load))
                if (id is not null) acknowledged.Add(id);
        }

        Assert.NotEmpty(acknowledged);
        await using var next = new ServiceFactory(redis.ConnectionString);
        using var reader = next.CreateHttpClient();
        foreach (var id in acknowledged)
            Assert.Equal(id, Wire.Attribute((await Wire.ReadByThirdPartyAsync(reader, client, id))!.Value, "mark"));
    }
}
