using ProfileUpdate.IntegrationTests.Infrastructure;
using ProfileUpdate.Testing;
using StackExchange.Redis;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// Profiles:Partitions is part of every profile's key: the first service writes it into the store's layout marker, and
/// a service configured otherwise refuses to start instead of running against profiles it cannot find.
/// </summary>
public sealed class StoreLayoutTests
{
    [SkippableFact]
    public async Task A_service_configured_with_other_partitions_than_the_store_holds_refuses_to_start_and_says_why()
    {
        Skip.If(!RedisServer.IsAvailable, RedisServer.SkipReason);
        using var redis = new RedisServer();
        using (var first = new ServiceFactory(redis.ConnectionString))
        using (var http = first.CreateHttpClient())
            Assert.True((await http.GetAsync("/health/ready")).IsSuccessStatusCode);
        using var admin = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        Assert.Equal("profiles:p64", (string?)await admin.GetDatabase().StringGetAsync("pu:layout"));

        using var other = new ServiceFactory(redis.ConnectionString, new Dictionary<string, string?> { ["ProfileUpdate:Profiles:Partitions"] = "8" });
        var refused = Assert.ThrowsAny<Exception>(() => other.CreateHttpClient());
        var messages = string.Join(" | ", Flatten(refused).Select(e => e.Message));
        Assert.Contains("'profiles:p64'", messages, StringComparison.Ordinal);
        Assert.Contains("ProfileUpdate__Profiles__Partitions", messages, StringComparison.Ordinal);

        // The same setting as the store's starts as usual.
        using var same = new ServiceFactory(redis.ConnectionString, new Dictionary<string, string?> { ["ProfileUpdate:Profiles:Partitions"] = "64" });
        using var sameHttp = same.CreateHttpClient();
        Assert.True((await sameHttp.GetAsync("/health/ready")).IsSuccessStatusCode);
    }

    private static IEnumerable<Exception> Flatten(Exception e)
    {
        yield return e;
        if (e is AggregateException aggregate)
            foreach (var inner in aggregate.InnerExceptions.SelectMany(Flatten)) yield return inner;
        else if (e.InnerException is { } inner)
            foreach (var nested in Flatten(inner)) yield return nested;
    }
}
