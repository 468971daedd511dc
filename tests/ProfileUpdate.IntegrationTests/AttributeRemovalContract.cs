using System.Net;
using System.Text;
using System.Text.Json;
using System.Xml.Linq;
using Microsoft.Extensions.DependencyInjection;
using ProfileUpdate.Api.Bulk;
using ProfileUpdate.Api.Profiles;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// Attribute removal (docs/api.md, <c>emptyValues=remove</c>) on single updates and batches, end to end: on a real
/// redis-server, on the embedded store and on a Redis Cluster.
/// </summary>
public abstract class AttributeRemovalContract(IServiceFixture fixture)
{
    private readonly HttpClient _http = fixture.Client;

    private void SkipWithoutStore() => Skip.If(fixture.SkipReason is not null, fixture.SkipReason);

    private Task<HttpResponseMessage> GetAsync(string client, string query) => _http.GetAsync($"/m2/{client}/profile/update?{query}");

    private async Task<JsonElement> ProfileAsync(string client, string id) => (await Wire.ReadByThirdPartyAsync(_http, client, id))!.Value;

    /// <summary>A profile with attributes a=1, b=2, c=3.</summary>
    private async Task<(string Client, string Id)> ProfileWithThreeAttributesAsync()
    {
        var client = Wire.NewClient();
        var id = Wire.NewId();
        await Wire.VisitAsync(_http, client, thirdPartyId: id, parameters: new Dictionary<string, string> { ["a"] = "1", ["b"] = "2", ["c"] = "3" });
        return (client, id);
    }

    private static async Task AssertAppliedAsync(HttpResponseMessage response, string outcome = "applied")
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("trueRequest successfully submitted", await response.Content.ReadAsStringAsync());
        Assert.Equal(outcome, Assert.Single(response.Headers.GetValues("X-Profile-Update")));
    }

    private static string[] Names(JsonElement profile) =>
        [.. profile.GetProperty("profileAttributes").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal)];

    [SkippableFact]
    public async Task Get_with_emptyValues_remove_removes_the_attribute_and_keeps_the_others()
    {
        SkipWithoutStore();
        var (client, id) = await ProfileWithThreeAttributesAsync();
        var before = (await ProfileAsync(client, id)).GetProperty("modifiedAt").GetDateTimeOffset();
        // Timestamps are in milliseconds: let the clock move on, so the modified time below can only be the removal's.
        Eventually.WaitUntil(() => DateTimeOffset.UtcNow > before.AddMilliseconds(2), TimeSpan.FromSeconds(5), "the clock to move on");

        using var response = await GetAsync(client, $"mbox3rdPartyId={id}&profile.b=&emptyValues=remove");
        await AssertAppliedAsync(response);

        var profile = await ProfileAsync(client, id);
        Assert.Equal(["a", "c"], Names(profile));
        Assert.True(profile.GetProperty("modifiedAt").GetDateTimeOffset() > before, "a removal updates the profile's modified time");
    }

    [SkippableFact]
    public async Task Post_form_body_removes_with_emptyValues_in_the_body_or_the_query()
    {
        SkipWithoutStore();
        var (client, id) = await ProfileWithThreeAttributesAsync();
        using (var inBody = await _http.PostAsync($"/m2/{client}/profile/update",
                   new StringContent($"mbox3rdPartyId={id}&emptyValues=remove&profile.a=", Encoding.UTF8, "application/x-www-form-urlencoded")))
            await AssertAppliedAsync(inBody);
        using (var inQuery = await _http.PostAsync($"/m2/{client}/profile/update?emptyValues=remove",
                   new StringContent($"mbox3rdPartyId={id}&profile.c=", Encoding.UTF8, "application/x-www-form-urlencoded")))
            await AssertAppliedAsync(inQuery);
        Assert.Equal(["b"], Names(await ProfileAsync(client, id)));
    }

    [SkippableFact]
    public async Task Sets_and_removals_of_one_request_apply_together_and_cost_one_quota_unit()
    {
        SkipWithoutStore();
        var (client, id) = await ProfileWithThreeAttributesAsync();
        using var first = await GetAsync(client, $"mbox3rdPartyId={id}&profile.a=10");
        using var mixed = await GetAsync(client, $"mbox3rdPartyId={id}&emptyValues=remove&profile.b=&profile.c=&profile.d=4&profile.a=11");
        await AssertAppliedAsync(mixed);
        Assert.Equal(Remaining(first) - 1, Remaining(mixed));

        var profile = await ProfileAsync(client, id);
        Assert.Equal(["a", "d"], Names(profile));
        Assert.Equal(("11", "4"), (Wire.Attribute(profile, "a"), Wire.Attribute(profile, "d")));
    }

    private static long Remaining(HttpResponseMessage response)
    {
        // RateLimit: "updates";r=<remaining>;t=<seconds>
        var value = Assert.Single(response.Headers.GetValues("RateLimit"));
        var r = value.Split(';').Single(p => p.StartsWith("r=", StringComparison.Ordinal));
        return long.Parse(r[2..], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Reads the profile until <paramref name="stop"/>, at least once: each read must show exactly one attribute.</summary>
    private async Task ReadWhileAsync(string client, string id, CancellationToken stop)
    {
        var reads = 0;
        do
        {
            var names = Names(await ProfileAsync(client, id));
            Assert.True(names.Length == 1, $"read {reads}: attributes {string.Join(", ", names)}");
            reads++;
        }
        while (!stop.IsCancellationRequested);
    }

    [SkippableFact]
    public async Task A_reader_never_sees_a_set_without_the_removal_of_the_same_request()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var id = Wire.NewId();
        await Wire.VisitAsync(_http, client, thirdPartyId: id, parameters: new Dictionary<string, string> { ["left"] = "0" });
        // Each request moves one value from one attribute to the other: any state between its set and its removal would
        // show both (or neither) to a reader.
        using var done = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            try
            {
                for (var i = 1; i <= 150; i++)
                {
                    var (set, remove) = i % 2 == 1 ? ("right", "left") : ("left", "right");
                    using var r = await GetAsync(client, $"mbox3rdPartyId={id}&emptyValues=remove&profile.{set}={i}&profile.{remove}=");
                    Assert.Equal(HttpStatusCode.OK, r.StatusCode);
                }
            }
            finally
            {
                await done.CancelAsync();
            }
        });
        await ReadWhileAsync(client, id, done.Token);
        await writer;
        Assert.Equal(["left"], Names(await ProfileAsync(client, id)));
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_reader_never_sees_a_batch_row_set_without_its_removal(bool v2)
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var id = Wire.NewId();
        await Wire.VisitAsync(_http, client, thirdPartyId: id, parameters: new Dictionary<string, string> { ["left"] = "0" });
        // Each row moves one value from one attribute to the other, as the single-update test above does; a batch's
        // commands reach Redis in pieces other clients' commands run between, so a row whose set and removal were two
        // commands would show both attributes to a reader now and then.
        const int rows = 4_000;
        var file = new StringBuilder("batch=thirdPartyId,left,right\n");
        for (var i = 1; i <= rows; i++) file.Append(id).Append(i % 2 == 1 ? $",,{i}\n" : $",{i},\n");
        using var response = await _http.PostAsync($"/m2/{client}{(v2 ? "/v2" : "")}/profile/batchUpdate?emptyValues=remove",
            new StringContent(file.ToString(), Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var statusUrl = new Uri(XElement.Parse(await response.Content.ReadAsStringAsync()).Element("batchStatus")!.Value).PathAndQuery;

        using var complete = new CancellationTokenSource();
        var watcher = Task.Run(async () =>
        {
            await Eventually.WaitUntilAsync(async () =>
                    XElement.Parse(await _http.GetStringAsync(statusUrl)).Element("status")!.Value == "complete",
                TimeSpan.FromSeconds(120), "the batch to complete", poll: TimeSpan.FromMilliseconds(20));
            await complete.CancelAsync();
        });
        await ReadWhileAsync(client, id, complete.Token);
        await watcher;
        var profile = await ProfileAsync(client, id);
        Assert.Equal(["left"], Names(profile));
        Assert.Equal("4000", Wire.Attribute(profile, "left"));
    }

    [SkippableFact]
    public async Task Removing_an_absent_attribute_is_a_no_op_and_an_unknown_visitor_is_not_created()
    {
        SkipWithoutStore();
        var (client, id) = await ProfileWithThreeAttributesAsync();
        using (var r = await GetAsync(client, $"mbox3rdPartyId={id}&profile.never=&emptyValues=remove")) await AssertAppliedAsync(r);
        Assert.Equal(["a", "b", "c"], Names(await ProfileAsync(client, id)));

        var nobody = Wire.NewId();
        using (var r = await GetAsync(client, $"mbox3rdPartyId={nobody}&profile.a=&emptyValues=remove")) await AssertAppliedAsync(r, "profile-not-found");
        var tnt = Guid.NewGuid().ToString("N");
        using (var r = await GetAsync(client, $"mboxPC={tnt}&profile.a=&emptyValues=remove")) await AssertAppliedAsync(r, "profile-not-found");
        Assert.Null(await Wire.ReadByThirdPartyAsync(_http, client, nobody));
        Assert.Null(await Wire.ReadByTntAsync(_http, client, tnt));
    }

    [SkippableTheory]
    [InlineData("")]
    [InlineData("&emptyValues=ignore")]
    public async Task Without_emptyValues_remove_empty_values_are_ignored_as_in_adobe(string mode)
    {
        SkipWithoutStore();
        var (client, id) = await ProfileWithThreeAttributesAsync();
        using (var r = await GetAsync(client, $"mbox3rdPartyId={id}&profile.a=&profile.b=20{mode}")) await AssertAppliedAsync(r);
        using (var r = await GetAsync(client, $"mbox3rdPartyId={id}&profile.c={mode}")) await AssertAppliedAsync(r); // only empty values: still a 200
        var profile = await ProfileAsync(client, id);
        Assert.Equal(("1", "20", "3"), (Wire.Attribute(profile, "a"), Wire.Attribute(profile, "b"), Wire.Attribute(profile, "c")));
    }

    [SkippableTheory]
    [InlineData("emptyValues=Remove", "'remove'")]
    [InlineData("emptyValues=REMOVE", "'remove'")]
    [InlineData("emptyValues=", "'ignore'")]
    [InlineData("emptyValues=delete", "not 'delete'")]
    [InlineData("emptyValues=remove&emptyValues=remove", "more than once")]
    [InlineData("emptyValues=remove&emptyValues=ignore", "more than once")]
    public async Task A_bad_or_repeated_emptyValues_answers_400_and_costs_nothing(string parameter, string expected)
    {
        SkipWithoutStore();
        var (client, id) = await ProfileWithThreeAttributesAsync();
        using var response = await GetAsync(client, $"mbox3rdPartyId={id}&profile.a=&{parameter}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await Wire.ProblemMessageAsync(response), StringComparison.Ordinal);
        Assert.Equal(["a", "b", "c"], Names(await ProfileAsync(client, id)));
    }

    // ---- batches ----

    private async Task<XElement> SubmitAsync(string client, string file, bool v2, string query)
    {
        using var response = await Wire.PostBatchAndWaitAsync(_http, $"/m2/{client}{(v2 ? "/v2" : "")}/profile/batchUpdate{query}",
            new StringContent(file, Encoding.UTF8, "text/csv"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        var statusUrl = new Uri(XElement.Parse(body).Element("batchStatus")!.Value);
        var status = XElement.Parse(await _http.GetStringAsync(statusUrl.PathAndQuery + "&showDetails=true"));
        Assert.Equal("complete", status.Element("status")!.Value);
        return status;
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Batch_with_emptyValues_remove_removes_present_empty_cells_only(bool v2)
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var ids = Enumerable.Range(0, 5).Select(_ => Wire.NewId()).ToArray();
        foreach (var id in ids)
            await Wire.VisitAsync(_http, client, thirdPartyId: id, parameters: new Dictionary<string, string> { ["a"] = "1", ["b"] = "2", ["c"] = "3" });
        var file = "batch=thirdPartyId,a,b,c\n" +
            $"{ids[0]},,x\n" + // a removed, b set, c omitted: kept
            $"{ids[1]},x,\n" + // trailing empty cell: b removed, c kept
            $"{ids[2]},x\n" + // short row: b and c kept
            $"{ids[3]},,,\n" + // every attribute removed
            $"{ids[4]},9,9,9\n{ids[4]},,8\n"; // a later row wins: a set, then removed
        var status = await SubmitAsync(client, file, v2, "?emptyValues=remove");
        Assert.Equal(("6", "0", "0"), (status.Element("successfulUpdates")!.Value, status.Element("failedUpdates")!.Value, status.Element("profilesNotFound")!.Value));

        var expected = new[] { new[] { "b", "c" }, ["a", "c"], ["a", "b", "c"], [], ["b", "c"] };
        for (var i = 0; i < ids.Length; i++) Assert.Equal(expected[i], Names(await ProfileAsync(client, ids[i])));
        var p0 = await ProfileAsync(client, ids[0]);
        Assert.Equal(("x", "3"), (Wire.Attribute(p0, "b"), Wire.Attribute(p0, "c")));
        var p4 = await ProfileAsync(client, ids[4]);
        Assert.Equal(("8", "9"), (Wire.Attribute(p4, "b"), Wire.Attribute(p4, "c")));
    }

    [SkippableTheory]
    [InlineData("")]
    [InlineData("?emptyValues=ignore")]
    public async Task Batch_without_emptyValues_remove_ignores_empty_cells(string query)
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var id = Wire.NewId();
        await Wire.VisitAsync(_http, client, thirdPartyId: id, parameters: new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" });
        await SubmitAsync(client, $"batch=thirdPartyId,a,b\n{id},,\n", v2: false, query);
        Assert.Equal(["a", "b"], Names(await ProfileAsync(client, id)));
    }

    [SkippableFact]
    public async Task Batch_v2_row_of_only_removals_for_a_new_id_creates_the_profile_without_attributes()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var id = Wire.NewId();
        var status = await SubmitAsync(client, $"batch=thirdPartyId,a\n{id},\n", v2: true, "?emptyValues=remove");
        Assert.Equal("1", status.Element("profilesCreated")!.Value);
        Assert.Empty(Names(await ProfileAsync(client, id)));
    }

    [SkippableTheory]
    [InlineData("?emptyValues=Remove", "'remove'")]
    [InlineData("?emptyValues=", "'ignore'")]
    [InlineData("?emptyValues=remove&emptyValues=remove", "more than once")]
    [InlineData("?emptyValues=x", "an empty cell removes")] // the batch form, not a single update's profile.<name>=
    public async Task Batch_with_a_bad_emptyValues_answers_400_in_the_xml_envelope_and_applies_nothing(string query, string expected)
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var id = Wire.NewId();
        await Wire.VisitAsync(_http, client, thirdPartyId: id, parameters: new Dictionary<string, string> { ["a"] = "1" });
        foreach (var v2 in new[] { false, true })
        {
            using var response = await _http.PostAsync($"/m2/{client}{(v2 ? "/v2" : "")}/profile/batchUpdate{query}",
                new StringContent($"batch=thirdPartyId,a\n{id},\n", Encoding.UTF8, "text/csv"));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var xml = XElement.Parse(await response.Content.ReadAsStringAsync());
            Assert.Equal("false", xml.Element("success")!.Value);
            Assert.Contains(expected, xml.Element("message")!.Value, StringComparison.Ordinal);
            Assert.DoesNotContain("profile.<name>", xml.Element("message")!.Value, StringComparison.Ordinal);
        }
        Assert.Equal(["a"], Names(await ProfileAsync(client, id)));
    }
}

public sealed class AttributeRemovalOnRedis(RedisServiceFixture fixture) : AttributeRemovalContract(fixture), IClassFixture<RedisServiceFixture>;

public sealed class AttributeRemovalOnEmbeddedStore(EmbeddedServiceFixture fixture) : AttributeRemovalContract(fixture), IClassFixture<EmbeddedServiceFixture>;

public sealed class AttributeRemovalOnRedisCluster(ClusterServiceFixture fixture) : AttributeRemovalContract(fixture), IClassFixture<ClusterServiceFixture>;

/// <summary>
/// A batch accepted with <c>?emptyValues=remove</c> and resumed from the spool by another instance (a restart after a
/// crash) still removes: the mode travels with the spooled file. Real Redis, so the two instances share the store.
/// </summary>
public sealed class AttributeRemovalResumeTests
{
    [SkippableFact]
    public async Task A_batch_resumed_from_the_spool_applies_with_the_emptyValues_it_was_accepted_with()
    {
        Skip.If(!RedisServer.IsAvailable, RedisServer.SkipReason);
        using var redis = new RedisServer();
        var client = Wire.NewClient();
        var ids = new[] { Wire.NewId(), Wire.NewId() };
        var spool = Directory.CreateTempSubdirectory("pu-remove-spool-").FullName;
        var batchId = $"{client}-{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}-12345678";
        var file = $"batch=thirdPartyId,a,b\n{ids[0]},,x\n{ids[1]},y,\n";

        // The instance that accepted the batch: it recorded it and spooled the file, then went away before applying it.
        await using (var accepted = new ServiceFactory(redis.ConnectionString))
        {
            using var http = accepted.CreateHttpClient();
            foreach (var id in ids)
                await Wire.VisitAsync(http, client, thirdPartyId: id, parameters: new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" });
            var statuses = accepted.Services.GetRequiredService<BatchStatusRepository>();
            await statuses.CreateAsync(client, batchId, 2, owner: "an instance that crashed");
        }
        await File.WriteAllTextAsync(Path.Combine(spool, BatchJob.FileName(batchId, BatchKind.UpdateExisting, EmptyValues.Remove)), file);

        // The restarted instance finds it in its spool at start-up.
        await using var restarted = new ServiceFactory(redis.ConnectionString,
            new Dictionary<string, string?> { ["ProfileUpdate:Bulk:SpoolDirectory"] = spool });
        using var client2 = restarted.CreateHttpClient();
        await Eventually.WaitUntilAsync(async () =>
                XElement.Parse(await client2.GetStringAsync($"/m2/{client}/profile/batchStatus?batchId={batchId}")).Element("status")!.Value == "complete",
            TimeSpan.FromSeconds(30), "the resumed batch to complete");

        var p0 = (await Wire.ReadByThirdPartyAsync(client2, client, ids[0]))!.Value;
        var p1 = (await Wire.ReadByThirdPartyAsync(client2, client, ids[1]))!.Value;
        Assert.Equal((null, "x"), (Wire.Attribute(p0, "a"), Wire.Attribute(p0, "b")));
        Assert.Equal(("y", null), (Wire.Attribute(p1, "a"), Wire.Attribute(p1, "b")));
    }
}
