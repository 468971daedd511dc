using Microsoft.Extensions.DependencyInjection;
using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Profiles;
using ProfileUpdate.Api.Store;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using ProfileUpdate.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// docs/api.md §4, delete: DELETE by tntId or thirdPartyId removes the profile, every link pointing to it and anything
/// keyed by it (a SCAN of the store finds nothing naming them), reads then 404, updates answer profile-not-found, a later
/// visit makes a new tntId, and a delete racing updates never leaves a half profile or an orphan link. Run on real
/// Redis, the embedded store and a Redis Cluster (where a profile's hash and its links live in different slots).
/// </summary>
public abstract partial class ProfileDeleteContract(StoreServiceFixture fixture)
{
    private readonly HttpClient _http = fixture.Client;

    private void SkipWithoutStore() => Skip.If(fixture.SkipReason is not null, fixture.SkipReason);

    /// <summary>Sends the target exactly as written (HttpClient would otherwise re-encode a malformed escape).</summary>
    private Task<HttpResponseMessage> DeleteAsync(string url) =>
        _http.DeleteAsync(new Uri(_http.BaseAddress!.GetLeftPart(UriPartial.Authority) + url,
            new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true }));

    private async Task<(string Outcome, long Remaining)> UpdateAsync(string client, string identity)
    {
        using var response = await _http.GetAsync($"/m2/{client}/profile/update?{identity}&profile.touched=yes");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var remaining = long.Parse(RemainingPattern().Match(string.Join(",", response.Headers.GetValues("RateLimit"))).Groups[1].Value,
            System.Globalization.CultureInfo.InvariantCulture);
        return (Assert.Single(response.Headers.GetValues("X-Profile-Update")), remaining);
    }

    [GeneratedRegex(@"r=(\d+)")]
    private static partial Regex RemainingPattern();

    /// <summary>Keys of the store naming any of <paramref name="names"/> (the client's keys all carry its code).</summary>
    private async Task<List<string>> KeysNamingAsync(string client, params string[] names) =>
        (await fixture.KeysAsync($"*{client}*")).Where(k => names.Any(n => k.Contains(n, StringComparison.Ordinal))).ToList();

    [SkippableFact]
    public async Task Delete_by_tntId_removes_the_hash_and_every_link_and_the_id_starts_over()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var (a, b) = (Wire.NewId("a"), Wire.NewId("b"));
        // One profile, linked from two thirdPartyIds (two visits with the same tntId).
        var tnt = await Wire.VisitAsync(_http, client, thirdPartyId: a, parameters: new Dictionary<string, string> { ["tier"] = "gold" });
        Assert.Equal(tnt, await Wire.VisitAsync(_http, client, tntId: tnt, thirdPartyId: b));
        var (applied, before) = await UpdateAsync(client, $"mbox3rdPartyId={a}"); // the link is now in this instance's link cache
        Assert.Equal("applied", applied);
        var tntBase = tnt.Split('.')[0];
        var keys = await KeysNamingAsync(client, tntBase, a, b);
        Assert.Equal(3, keys.Count);
        // Without Profiles:Lifetime nothing expires.
        foreach (var key in keys) Assert.Null(await fixture.Store.GetDatabase().KeyTimeToLiveAsync(key));

        using (var deleted = await DeleteAsync($"/rest/v1/profiles/{tnt}?client={client}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
            Assert.Empty(await deleted.Content.ReadAsByteArrayAsync());
        }

        Assert.Empty(await KeysNamingAsync(client, tntBase, a, b));
        Assert.Null(await Wire.ReadByTntAsync(_http, client, tnt));
        Assert.Null(await Wire.ReadByThirdPartyAsync(_http, client, a));
        Assert.Null(await Wire.ReadByThirdPartyAsync(_http, client, b));
        var (viaLink, after) = await UpdateAsync(client, $"mbox3rdPartyId={a}");
        Assert.Equal("profile-not-found", viaLink);
        Assert.Equal("profile-not-found", (await UpdateAsync(client, $"mboxPC={tnt}")).Outcome);
        // Deletes take no quota: the two updates after the first are the only units spent since.
        Assert.Equal(before - 1, after);
        Assert.Empty(await KeysNamingAsync(client, tntBase, a, b)); // the update-only writes created nothing

        using (var again = await DeleteAsync($"/rest/v1/profiles/{tnt}?client={client}"))
            Assert.Equal($"No profile found for client {client} with mboxPC={tnt}", await Wire.ProblemMessageAsync(again));

        // The same thirdPartyId visits again: a new profile with a new tntId, which updates through the id reach.
        var renewed = await Wire.VisitAsync(_http, client, thirdPartyId: a);
        Assert.NotEqual(tntBase, renewed.Split('.')[0]);
        Assert.Equal("applied", (await UpdateAsync(client, $"mbox3rdPartyId={a}")).Outcome);
        var profile = (await Wire.ReadByThirdPartyAsync(_http, client, a))!.Value;
        Assert.Equal(renewed, profile.GetProperty("tntId").GetString());
        Assert.Null(Wire.Attribute(profile, "tier"));
    }

    [SkippableFact]
    public async Task Delete_by_thirdPartyId_removes_the_profile_with_its_other_links()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var (a, b, c) = (Wire.NewId("a"), Wire.NewId("b"), "x%2Fy");
        var tnt = await Wire.VisitAsync(_http, client, thirdPartyId: a);
        await Wire.VisitAsync(_http, client, tntId: tnt, thirdPartyId: b);
        var other = await Wire.VisitAsync(_http, client, thirdPartyId: Wire.NewId("other"));

        using (var deleted = await DeleteAsync($"/rest/v1/profiles/thirdPartyId/{b}?client={client}"))
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Empty(await KeysNamingAsync(client, tnt.Split('.')[0], a, b));
        Assert.Null(await Wire.ReadByThirdPartyAsync(_http, client, a));
        Assert.Null(await Wire.ReadByTntAsync(_http, client, tnt));
        Assert.NotNull(await Wire.ReadByTntAsync(_http, client, other)); // another profile of the client is untouched

        using (var unknown = await DeleteAsync($"/rest/v1/profiles/thirdPartyId/{b}?client={client}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
            Assert.Equal($"No profile found for client {client} with third party id={b}", await Wire.ProblemMessageAsync(unknown));
        }
        using (var slash = await DeleteAsync($"/rest/v1/profiles/thirdPartyId/{c}?client={client}"))
            Assert.Equal(HttpStatusCode.BadRequest, slash.StatusCode);
    }

    [SkippableFact]
    public async Task A_profile_written_before_link_bookkeeping_loses_its_underscore_3_link_too()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var (tnt, a) = ("legacy" + Guid.NewGuid().ToString("N")[..10] + ".0_0", Wire.NewId("a"));
        var db = fixture.Store.GetDatabase();
        // As the service wrote profiles before: '_:3' holds the thirdPartyId, no '_:l:' field.
        var hash = RedisKeys.Profile(client, tnt.Split('.')[0], ProfilesOptions.DefaultPartitions);
        await db.HashSetAsync(hash, [new("_:t", tnt), new("_:3", a), new("_:c", 1), new("_:m", 1), new("a:x", "1:y")]);
        await db.StringSetAsync($"pu:{{{client}:3p:{a}}}", tnt);
        Assert.Equal("y", Wire.Attribute((await Wire.ReadByThirdPartyAsync(_http, client, a))!.Value, "x"));

        using (var deleted = await DeleteAsync($"/rest/v1/profiles/{tnt}?client={client}"))
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Empty(await KeysNamingAsync(client, tnt.Split('.')[0], a));
    }

    [SkippableFact]
    public async Task A_link_taken_by_another_profile_after_a_delete_is_never_removed_with_the_old_one()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var a = Wire.NewId("a");
        var db = fixture.Store.GetDatabase();
        // A stale record: profile X still lists a, but a now links to profile Y (made after an earlier delete raced).
        var x = await Wire.VisitAsync(_http, client, thirdPartyId: Wire.NewId("x"));
        await db.HashSetAsync(RedisKeys.Profile(client, x.Split('.')[0], ProfilesOptions.DefaultPartitions), "_:l:" + a, "");
        var y = await Wire.VisitAsync(_http, client, thirdPartyId: a);

        using (var deleted = await DeleteAsync($"/rest/v1/profiles/{x}?client={client}"))
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(y, (await Wire.ReadByThirdPartyAsync(_http, client, a))!.Value.GetProperty("tntId").GetString());
    }

    [SkippableFact]
    public async Task An_update_through_a_remembered_link_whose_profile_is_gone_goes_to_the_profile_the_id_links_now()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var a = Wire.NewId("a");
        var links = fixture.Services.GetRequiredService<LinkCache>();
        var first = await Wire.VisitAsync(_http, client, thirdPartyId: a);
        Assert.False(links.TryGet(client, a, out _)); // visits correct the cache, they do not fill it
        Assert.Equal("applied", (await UpdateAsync(client, $"mbox3rdPartyId={a}")).Outcome); // a → first is remembered now

        // Another instance deletes the profile (its keys go; this instance is not told) ...
        var db = fixture.Store.GetDatabase();
        foreach (var key in await KeysNamingAsync(client, first.Split('.')[0], a)) await db.KeyDeleteAsync(key);
        // ... and a visit links a to a new profile. A visit through this instance replaces what it remembered:
        var second = await Wire.VisitAsync(_http, client, thirdPartyId: a);
        Assert.NotEqual(first, second);
        Assert.True(links.TryGet(client, a, out var remembered));
        Assert.Equal(second, remembered);

        // Had the visit gone through another instance, this one would still remember a → first: the update must not be
        // lost to that (it used to answer profile-not-found with the profile right there), nor take a second quota unit.
        var before = (await UpdateAsync(client, $"mbox3rdPartyId={a}")).Remaining;
        links.Add(client, a, first);
        using (var response = await _http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId={a}&profile.city=Bonn"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("applied", Assert.Single(response.Headers.GetValues("X-Profile-Update")));
            var remaining = RemainingPattern().Match(string.Join(",", response.Headers.GetValues("RateLimit"))).Groups[1].Value;
            Assert.Equal((before - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), remaining);
        }
        var profile = (await Wire.ReadByThirdPartyAsync(_http, client, a))!.Value;
        Assert.Equal(second, profile.GetProperty("tntId").GetString());
        Assert.Equal("Bonn", Wire.Attribute(profile, "city"));
        Assert.True(links.TryGet(client, a, out remembered));
        Assert.Equal(second, remembered);
        Assert.Null(await Wire.ReadByTntAsync(_http, client, first)); // the update-only write did not bring the old one back
    }

    [SkippableFact]
    public async Task A_delete_racing_a_thousand_updates_leaves_no_profile_and_no_orphan_link()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var (a, b) = (Wire.NewId("a"), Wire.NewId("b"));
        var tnt = await Wire.VisitAsync(_http, client, thirdPartyId: a);
        await Wire.VisitAsync(_http, client, tntId: tnt, thirdPartyId: b);

        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sent = 0;
        var updates = Enumerable.Range(0, 1000).Select(async i =>
        {
            await started.Task;
            var identity = (i % 3) switch { 0 => $"mboxPC={tnt}", 1 => $"mbox3rdPartyId={a}", _ => $"mbox3rdPartyId={b}" };
            using var response = await _http.GetAsync($"/m2/{client}/profile/update?{identity}&profile.n{i % 7}={i}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Interlocked.Increment(ref sent);
            return Assert.Single(response.Headers.GetValues("X-Profile-Update"));
        }).ToList();
        started.SetResult();
        // The delete goes out while updates are in flight, both before and after it.
        await Eventually.WaitUntilAsync(() => Task.FromResult(Volatile.Read(ref sent) >= 50), TimeSpan.FromSeconds(30), "50 updates answered");
        using (var deleted = await DeleteAsync($"/rest/v1/profiles/thirdPartyId/{a}?client={client}"))
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var outcomes = await Task.WhenAll(updates);

        Assert.Contains("applied", outcomes);
        Assert.Empty(await KeysNamingAsync(client, tnt.Split('.')[0], a, b));
        Assert.Null(await Wire.ReadByTntAsync(_http, client, tnt));
        Assert.Null(await Wire.ReadByThirdPartyAsync(_http, client, b));
    }

    [SkippableFact]
    public async Task Bad_ids_and_a_missing_client_are_clear_400s()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        foreach (var (url, expected) in new[]
                 {
                     ($"/rest/v1/profiles/a+b?client={client}", "tntId may contain only"),
                     ($"/rest/v1/profiles/{new string('1', 129)}?client={client}", "at most 128"),
                     ($"/rest/v1/profiles/a%ZZb?client={client}", "tntId may contain only"),
                     ($"/rest/v1/profiles/thirdPartyId/a+b?client={client}", "'+'"),
                     ($"/rest/v1/profiles/thirdPartyId/a%ZZ?client={client}", "percent"),
                     ($"/rest/v1/profiles/thirdPartyId/{new string('x', 257)}?client={client}", "at most 256"),
                     ("/rest/v1/profiles/thirdPartyId/crm-1", "client"),
                     ("/rest/v1/profiles/1368007744041-575948.01_00", "client"),
                 })
        {
            using var response = await DeleteAsync(url);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{url}: {(int)response.StatusCode}");
            Assert.Contains(expected, await Wire.ProblemMessageAsync(response), StringComparison.OrdinalIgnoreCase);
        }
    }

    [SkippableFact]
    public async Task An_empty_thirdPartyId_is_a_400_for_reads_and_deletes_not_a_tntId_named_thirdPartyId()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        foreach (var url in new[] { $"/rest/v1/profiles/thirdPartyId/?client={client}", $"/rest/v1/profiles/thirdPartyId?client={client}" })
        {
            foreach (var method in new[] { HttpMethod.Get, HttpMethod.Delete })
            {
                using var response = await _http.SendAsync(new HttpRequestMessage(method, url));
                Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{method} {url}: {(int)response.StatusCode}");
                Assert.Contains("thirdPartyId is missing", await Wire.ProblemMessageAsync(response), StringComparison.Ordinal);
            }
        }
    }
}

public sealed class DeleteOnRedisFixture() : StoreServiceFixture(StoreKind.Redis);

public sealed class DeleteOnEmbeddedFixture() : StoreServiceFixture(StoreKind.Embedded);

public sealed class DeleteOnClusterFixture() : StoreServiceFixture(StoreKind.Cluster);

public sealed class ProfileDeleteOnRedis(DeleteOnRedisFixture fixture) : ProfileDeleteContract(fixture), IClassFixture<DeleteOnRedisFixture>;

public sealed class ProfileDeleteOnEmbeddedStore(DeleteOnEmbeddedFixture fixture) : ProfileDeleteContract(fixture), IClassFixture<DeleteOnEmbeddedFixture>;

public sealed class ProfileDeleteOnRedisCluster(DeleteOnClusterFixture fixture) : ProfileDeleteContract(fixture), IClassFixture<DeleteOnClusterFixture>;
