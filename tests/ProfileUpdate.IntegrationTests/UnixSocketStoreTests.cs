using System.Net;
using ProfileUpdate.IntegrationTests.Infrastructure;
using ProfileUpdate.Testing;
using StackExchange.Redis;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// A Redis on the same host can be reached over its Unix socket (<c>ConnectionStrings__Redis=!/path/to/redis.sock</c>,
/// docs/api.md, configuration): every connection the service opens goes through the socket, and the single-update path
/// works over it end to end.
/// </summary>
public sealed class UnixSocketStoreTests
{
    [SkippableFact]
    public async Task Over_a_unix_socket_the_service_opens_every_connection_through_it_and_updates_are_applied()
    {
        Skip.If(!RedisServer.IsAvailable, RedisServer.SkipReason);
        using var redis = new RedisServer(unixSocket: true);
        using var service = new ServiceFactory(redis.UnixSocketConnectionString);
        using var http = service.CreateHttpClient();
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);

        var client = Wire.NewClient();
        var id = Wire.NewId();
        await Wire.VisitAsync(http, client, thirdPartyId: id);
        using var response = await http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId={id}&profile.tier=gold");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("applied", Assert.Single(response.Headers.GetValues("X-Profile-Update")));
        Assert.Equal("gold", Wire.Attribute((await Wire.ReadByThirdPartyAsync(http, client, id))!.Value, "tier"));

        // Redis names each client's address: the socket's path for a Unix socket connection, ip:port for TCP. The test's
        // own admin connection is the one over TCP.
        using var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString + ",allowAdmin=true");
        var clients = await admin.GetServer(redis.ConnectionString).ClientListAsync();
        var ofService = clients.Where(c => c.Name?.StartsWith("profile-update", StringComparison.Ordinal) == true).ToList();
        Assert.NotEmpty(ofService);
        Assert.All(ofService, c => Assert.Contains(redis.UnixSocketPath!, c.Raw, StringComparison.Ordinal));
    }
}
