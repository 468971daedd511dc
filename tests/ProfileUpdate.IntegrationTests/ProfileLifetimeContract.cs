using System.Net;
using System.Text;
using ProfileUpdate.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// docs/api.md §8, profile lifetime: with <c>Profiles:Lifetime</c> set (3 s here), every write (single update, bulk row,
/// visit) renews the expiry of the profile's hash and of every link of it; reads do not. A profile only read disappears
/// with its links once the lifetime has passed; a profile written within it stays, and goes once writes stop. Real
/// Redis expiry, so the test waits a few real seconds. On real Redis, the embedded store and a Redis Cluster.
/// </summary>
public abstract class ProfileLifetimeContract(StoreServiceFixture fixture)
{
    public const string Lifetime = "00:00:03";

    private readonly HttpClient _http = fixture.Client;

    private void SkipWithoutStore() => Skip.If(fixture.SkipReason is not null, fixture.SkipReason);

    private async Task<List<string>> KeysNamingAsync(string client, params string[] names) =>
        (await fixture.KeysAsync($"pu:{{{client}:*")).Where(k => names.Any(n => k.Contains(n, StringComparison.Ordinal))).ToList();

    [SkippableFact]
    public async Task Written_profiles_stay_and_read_only_ones_disappear_with_their_links()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var written = await Wire.VisitAsync(_http, client, thirdPartyId: "w-a");
        await Wire.VisitAsync(_http, client, tntId: written, thirdPartyId: "w-b");
        var readOnly = await Wire.VisitAsync(_http, client, thirdPartyId: "r-a");
        await Wire.VisitAsync(_http, client, tntId: readOnly, thirdPartyId: "r-b");
        var (w, r) = (written.Split('.')[0], readOnly.Split('.')[0]);

        // Every key of both profiles carries the lifetime.
        var db = fixture.Store.GetDatabase();
        var keys = await KeysNamingAsync(client, w, r, "w-a", "w-b", "r-a", "r-b");
        Assert.Equal(6, keys.Count);
        foreach (var key in keys)
        {
            var ttl = await db.KeyTimeToLiveAsync(key);
            Assert.True(ttl is { } t && t > TimeSpan.Zero && t <= TimeSpan.FromSeconds(3), $"{key}: {ttl}");
        }

        // For twice the lifetime: write the one profile every ~0.6 s (single update by tntId, a bulk v1 row by one link,
        // a visit by the other) and only read the other.
        var stopAt = DateTime.UtcNow + TimeSpan.FromSeconds(6);
        var round = 0;
        while (DateTime.UtcNow < stopAt)
        {
            switch (round++ % 3)
            {
                case 0:
                    using (var update = await _http.GetAsync($"/m2/{client}/profile/update?mboxPC={written}&profile.n={round}"))
                        Assert.Equal("applied", Assert.Single(update.Headers.GetValues("X-Profile-Update")));
                    break;
                case 1:
                    using (var batch = await Wire.PostBatchAndWaitAsync(_http, $"/m2/{client}/profile/batchUpdate",
                               new StringContent($"batch=thirdPartyId,n\nw-b,{round}\n", Encoding.UTF8, "text/csv")))
                        Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
                    break;
                default:
                    await Wire.VisitAsync(_http, client, thirdPartyId: "w-a");
                    break;
            }
            await Wire.ReadByThirdPartyAsync(_http, client, "r-a");
            await Task.Delay(600);
        }

        // The read-only profile and both its links are gone; the written one is whole.
        await Eventually.WaitUntilAsync(async () => (await KeysNamingAsync(client, r, "r-a", "r-b")).Count == 0,
            TimeSpan.FromSeconds(10), "the read-only profile's keys to expire");
        Assert.Null(await Wire.ReadByTntAsync(_http, client, readOnly));
        Assert.Equal(written, (await Wire.ReadByThirdPartyAsync(_http, client, "w-a"))!.Value.GetProperty("tntId").GetString());
        Assert.Equal(written, (await Wire.ReadByThirdPartyAsync(_http, client, "w-b"))!.Value.GetProperty("tntId").GetString());
        Assert.Equal(3, (await KeysNamingAsync(client, w, "w-a", "w-b")).Count);

        // Writes stop: the written profile follows, links and all; its thirdPartyId starts over with a new tntId.
        await Eventually.WaitUntilAsync(async () => (await KeysNamingAsync(client, w, "w-a", "w-b")).Count == 0,
            TimeSpan.FromSeconds(10), "the written profile's keys to expire once writes stopped");
        Assert.NotEqual(written, await Wire.VisitAsync(_http, client, thirdPartyId: "w-a"));
    }

    [SkippableFact]
    public async Task A_bulk_v2_row_gives_a_new_profile_and_its_link_the_lifetime()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        using (var batch = await Wire.PostBatchAndWaitAsync(_http, $"/m2/{client}/v2/profile/batchUpdate",
                   new StringContent("batch=thirdPartyId,n\nb-1,1\n", Encoding.UTF8, "text/csv")))
            Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
        var keys = await fixture.KeysAsync($"pu:{{{client}:*");
        Assert.Equal(2, keys.Count);
        var db = fixture.Store.GetDatabase();
        foreach (var key in keys) Assert.True(await db.KeyTimeToLiveAsync(key) is { } t && t > TimeSpan.Zero, key);
        await Eventually.WaitUntilAsync(async () => (await fixture.KeysAsync($"pu:{{{client}:*")).Count == 0,
            TimeSpan.FromSeconds(10), "the bulk-created profile to expire");
    }
}

public sealed class LifetimeOnRedisFixture() : StoreServiceFixture(StoreKind.Redis, Settings)
{
    internal static readonly Dictionary<string, string?> Settings = new() { ["ProfileUpdate:Profiles:Lifetime"] = ProfileLifetimeContract.Lifetime };
}

public sealed class LifetimeOnEmbeddedFixture() : StoreServiceFixture(StoreKind.Embedded, LifetimeOnRedisFixture.Settings);

public sealed class LifetimeOnClusterFixture() : StoreServiceFixture(StoreKind.Cluster, LifetimeOnRedisFixture.Settings);

public sealed class ProfileLifetimeOnRedis(LifetimeOnRedisFixture fixture) : ProfileLifetimeContract(fixture), IClassFixture<LifetimeOnRedisFixture>;

public sealed class ProfileLifetimeOnEmbeddedStore(LifetimeOnEmbeddedFixture fixture) : ProfileLifetimeContract(fixture), IClassFixture<LifetimeOnEmbeddedFixture>;

public sealed class ProfileLifetimeOnRedisCluster(LifetimeOnClusterFixture fixture) : ProfileLifetimeContract(fixture), IClassFixture<LifetimeOnClusterFixture>;
