using Microsoft.Extensions.DependencyInjection;
using ProfileUpdate.Api.Profiles;
using ProfileUpdate.Api.Store;
using ProfileUpdate.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// What the contracts of the calls with reply markers (<see cref="MarkedCall"/>: quota calls, and the apply calls with
/// the change feed on) share: the service on a store of its own, and the marker's expiry.
/// </summary>
public abstract class MarkedCallContract(StoreServiceFixture fixture)
{
    protected StoreServiceFixture Fixture { get; } = fixture;

    protected HttpClient Http => Fixture.Client;

    protected IDatabase Db => Fixture.Store.GetDatabase();

    protected void SkipWithoutStore() => Skip.If(Fixture.SkipReason is not null, Fixture.SkipReason);

    protected static ProfileWrite Update(string client, string tnt, string value) =>
        new(client, tnt, null, WriteMode.UpdateOnly, [new("v", value)]);

    /// <summary>The marker carries an expiry no longer than the store's retry window (SET … PX in the script, every store).</summary>
    protected async Task AssertExpiresWithinRetryWindowAsync(MarkedCall call)
    {
        var window = Fixture.Services.GetRequiredService<StoreConnections>().RetryWindow;
        var ttl = await Db.KeyTimeToLiveAsync(call.MarkerKey);
        Assert.True(ttl is { } t && t > TimeSpan.Zero && t <= window, $"marker TTL {ttl}, retry window {window}");
    }
}
