using System.Net;
using System.Text;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>docs/api.md §1 end to end, run once against a real redis-server and once against the embedded store.</summary>
public abstract class SingleUpdateContract(IServiceFixture fixture)
{
    private const string Success = "trueRequest successfully submitted";
    private readonly HttpClient _http = fixture.Client;

    private void SkipWithoutStore() => Skip.If(fixture.SkipReason is not null, fixture.SkipReason);

    /// <summary>Sends the query exactly as written: HttpClient would otherwise "repair" a malformed escape such as %ZZ.</summary>
    private async Task<HttpResponseMessage> GetAsync(string client, string query) =>
        await _http.GetAsync(new Uri(new Uri(_http.BaseAddress!, $"/m2/{client}/profile/update").AbsoluteUri + "?" + query,
            new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true }));

    private async Task<HttpResponseMessage> PostFormAsync(string client, string query, string body, string contentType = "application/x-www-form-urlencoded")
    {
        var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        return await _http.PostAsync($"/m2/{client}/profile/update{(query.Length > 0 ? "?" + query : "")}", content);
    }

    private static async Task AssertSuccessAsync(HttpResponseMessage response, string outcome)
    {
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal(Success, await response.Content.ReadAsStringAsync());
        Assert.Equal(outcome, Assert.Single(response.Headers.GetValues("X-Profile-Update")));
    }

    [SkippableFact]
    public async Task Get_by_third_party_id_is_readable_in_the_very_next_request()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var id = Wire.NewId();
        await Wire.VisitAsync(_http, client, thirdPartyId: id);

        using var response = await GetAsync(client, $"mbox3rdPartyId={id}&profile.favoriteColor=blue&profile.tier=gold");
        await AssertSuccessAsync(response, "applied");

        var profile = await Wire.ReadByThirdPartyAsync(_http, client, id);
        Assert.NotNull(profile);
        Assert.Equal("blue", Wire.Attribute(profile.Value, "favoriteColor"));
        Assert.Equal("gold", Wire.Attribute(profile.Value, "tier"));
        Assert.Equal(id, profile.Value.GetProperty("thirdPartyId").GetString());
    }

    [SkippableFact]
    public async Task Post_form_body_merged_with_query_string()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var id = Wire.NewId();
        await Wire.VisitAsync(_http, client, thirdPartyId: id, parameters: new Dictionary<string, string> { ["kept"] = "yes" });

        using var response = await PostFormAsync(client, $"mbox3rdPartyId={id}", "profile.city=K%C3%B6ln&profile.plan=pro+plus");
        await AssertSuccessAsync(response, "applied");

        var profile = (await Wire.ReadByThirdPartyAsync(_http, client, id))!.Value;
        Assert.Equal("Köln", Wire.Attribute(profile, "city"));
        Assert.Equal("pro plus", Wire.Attribute(profile, "plan"));
        Assert.Equal("yes", Wire.Attribute(profile, "kept")); // other attributes are merged, never wiped
    }

    [SkippableFact]
    public async Task MboxPC_with_and_without_location_hint_names_the_same_profile()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var baseId = Guid.NewGuid().ToString("N");
        var tnt = await Wire.VisitAsync(_http, client, tntId: baseId + ".28_20");
        Assert.Equal(baseId + ".28_20", tnt);

        using (var r = await GetAsync(client, $"mboxPC={baseId}&profile.a=1")) await AssertSuccessAsync(r, "applied");
        using (var r = await GetAsync(client, $"mboxPC={baseId}.35_0&profile.b=2")) await AssertSuccessAsync(r, "applied");

        var profile = (await Wire.ReadByTntAsync(_http, client, baseId))!.Value;
        Assert.Equal("1", Wire.Attribute(profile, "a"));
        Assert.Equal("2", Wire.Attribute(profile, "b"));
        Assert.Equal(baseId, profile.GetProperty("visitorId").GetString()); // the id asked for
        Assert.Equal(baseId + ".28_20", profile.GetProperty("tntId").GetString()); // the id as first given
        Assert.Equal(JsonValueKindNull, profile.GetProperty("thirdPartyId").ValueKind);
    }

    private const System.Text.Json.JsonValueKind JsonValueKindNull = System.Text.Json.JsonValueKind.Null;

    [SkippableFact]
    public async Task Utf8_values_round_trip_exactly()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var id = Wire.NewId();
        await Wire.VisitAsync(_http, client, thirdPartyId: id);
        var values = new Dictionary<string, string> { ["city"] = "Köln", ["capital"] = "東京", ["mood"] = "😀👍🏽", ["名前"] = "ümlaut ß" };
        var query = string.Join("&", values.Select(kv => $"profile.{Uri.EscapeDataString(kv.Key)}={Uri.EscapeDataString(kv.Value)}"));

        using var response = await GetAsync(client, $"mbox3rdPartyId={id}&{query}");
        await AssertSuccessAsync(response, "applied");

        var profile = (await Wire.ReadByThirdPartyAsync(_http, client, id))!.Value;
        foreach (var (name, value) in values) Assert.Equal(value, Wire.Attribute(profile, name));
    }

    [SkippableFact]
    public async Task Empty_value_never_clears_an_attribute()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var id = Wire.NewId();
        await Wire.VisitAsync(_http, client, thirdPartyId: id, parameters: new Dictionary<string, string> { ["tier"] = "gold" });

        using var response = await GetAsync(client, $"mbox3rdPartyId={id}&profile.tier=&profile.other=x");
        await AssertSuccessAsync(response, "applied");
        var profile = (await Wire.ReadByThirdPartyAsync(_http, client, id))!.Value;
        Assert.Equal("gold", Wire.Attribute(profile, "tier"));
        Assert.Equal("x", Wire.Attribute(profile, "other"));
    }

    [SkippableFact]
    public async Task Unknown_visitor_is_not_created()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var id = Wire.NewId();
        var tnt = Guid.NewGuid().ToString("N");

        using (var r = await GetAsync(client, $"mbox3rdPartyId={id}&profile.a=1")) await AssertSuccessAsync(r, "profile-not-found");
        using (var r = await GetAsync(client, $"mboxPC={tnt}&profile.a=1")) await AssertSuccessAsync(r, "profile-not-found");

        using var byThirdParty = await _http.GetAsync($"/rest/v1/profiles/thirdPartyId/{id}?client={client}");
        Assert.Equal(HttpStatusCode.NotFound, byThirdParty.StatusCode);
        Assert.Equal($"No profile found for client {client} with third party id={id}", await Wire.ProblemMessageAsync(byThirdParty));
        using var byTnt = await _http.GetAsync($"/rest/v1/profiles/{tnt}?client={client}");
        Assert.Equal(HttpStatusCode.NotFound, byTnt.StatusCode);
        Assert.Equal($"No profile found for client {client} with mboxPC={tnt}", await Wire.ProblemMessageAsync(byTnt));
    }

    public static TheoryData<string, string> BadQueries => new()
    {
        { "profile.a=1", "exactly one of mboxPC" },
        { "mboxPC=abc&mbox3rdPartyId=x&profile.a=1", "Both mboxPC and mbox3rdPartyId" },
        { "mboxMCGVID=123&profile.a=1", "mboxMCGVID" },
        { "marketingCloudVisitorId=123&mbox3rdPartyId=x&profile.a=1", "marketingCloudVisitorId" },
        { "mbox3rdPartyId=x", "at least one parameter profile." },
        { "mbox3rdPartyId=x&foo=bar", "at least one parameter profile." },
        { "mbox3rdPartyId=x&profile.a=1&profile.a=2", "more than once" },
        { "mboxPC=a&mboxPC=b&profile.a=1", "more than once" },
        { "mbox3rdPartyId=x&profile.a=%ZZ", "malformed percent-escape" },
        { "mbox3rdPartyId=x&profile.a=50%", "malformed percent-escape" },
        { "mbox3rdPartyId=x&profile.a=%C3%28", "not valid UTF-8" },
        { "mbox3rdPartyId=x&profile.%FF=1", "not valid UTF-8" },
        { "mbox3rdPartyId=a%2Bb&profile.a=1", "'+' or '/'" },
        { "mbox3rdPartyId=a%2Fb&profile.a=1", "'+' or '/'" },
        { "mbox3rdPartyId=&profile.a=1", "must not be empty" },
        { "mboxPC=a.b.c&profile.a=1", "at most one '.'" },
        { "mboxPC=a%20b&profile.a=1", "only letters, digits" },
        { "mbox3rdPartyId=x&profile.=1", "no attribute name" },
        { "mbox3rdPartyId=x&profile.a=b%00c", "control character" },
    };

    [SkippableTheory]
    [MemberData(nameof(BadQueries))]
    public async Task Malformed_get_answers_400_with_an_actionable_message(string query, string expected)
    {
        SkipWithoutStore();
        using var response = await GetAsync(Wire.NewClient(), query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await Wire.ProblemMessageAsync(response), StringComparison.Ordinal);
    }

    [SkippableTheory]
    [InlineData("mbox3rdPartyId=crm-42", "profile.getbody=1", "No profile attribute given")]
    [InlineData("profile.a=1", "mbox3rdPartyId=crm-42", "No visitor id given")]
    public async Task A_get_with_a_body_is_told_that_its_body_is_not_read(string query, string body, string expected)
    {
        SkipWithoutStore();
        const string notRead = "This GET came with a body, which is not read: send the parameters in the query string, or POST them as the form body.";
        var client = Wire.NewClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/m2/{client}/profile/update?{query}")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var message = await Wire.ProblemMessageAsync(response);
        Assert.StartsWith(expected, message, StringComparison.Ordinal);
        Assert.EndsWith(notRead, message, StringComparison.Ordinal);

        // The same GET without a body is not told about one.
        using var bodyless = await GetAsync(client, query);
        Assert.Equal(HttpStatusCode.BadRequest, bodyless.StatusCode);
        Assert.DoesNotContain("body", await Wire.ProblemMessageAsync(bodyless), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Over_long_names_values_and_ids_answer_400()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        using (var r = await GetAsync(client, $"mbox3rdPartyId=x&profile.{new string('n', 129)}=1"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Contains("longer than 128", await Wire.ProblemMessageAsync(r), StringComparison.Ordinal);
        }
        using (var r = await GetAsync(client, $"mbox3rdPartyId=x&profile.a={new string('v', 257)}"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Contains("longer than 256", await Wire.ProblemMessageAsync(r), StringComparison.Ordinal);
        }
        using (var r = await GetAsync(client, $"mbox3rdPartyId={new string('i', 257)}&profile.a=1"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Contains("at most 256", await Wire.ProblemMessageAsync(r), StringComparison.Ordinal);
        }
        // 256 emoji are 256 characters, not 1,024 bytes: at the limit, accepted.
        using var ok = await GetAsync(client, $"mbox3rdPartyId=x&profile.a={Uri.EscapeDataString(string.Concat(Enumerable.Repeat("😀", 256)))}");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [SkippableFact]
    public async Task Request_target_over_8192_bytes_answers_414_from_the_service_not_kestrel()
    {
        SkipWithoutStore();
        await Wire.AssertRequestTargetLimitAsync(_http, 8192);
    }

    [SkippableFact]
    public async Task Post_body_limits_content_types_and_conflicts()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var id = Wire.NewId();
        await Wire.VisitAsync(_http, client, thirdPartyId: id);

        var head = $"mbox3rdPartyId={id}&profile.a=1&pad=";
        using (var r = await PostFormAsync(client, "", head + new string('p', 61_440 - head.Length))) await AssertSuccessAsync(r, "applied");

        using (var r = await PostFormAsync(client, "", head + new string('p', 61_441 - head.Length)))
        {
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, r.StatusCode);
            Assert.Contains("61440 bytes", await Wire.ProblemMessageAsync(r), StringComparison.Ordinal);
        }
        // The same limits with Transfer-Encoding: chunked in 64-byte chunks, whose framing (~6 bytes a chunk) Kestrel would
        // count against its own limit: the limit is the body's bytes, whatever the framing.
        foreach (var (bytes, expected) in new[] { (61_440, HttpStatusCode.OK), (61_441, HttpStatusCode.RequestEntityTooLarge) })
        {
            var content = new SmallChunksContent(Encoding.ASCII.GetBytes(head + new string('p', bytes - head.Length)), 64);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/x-www-form-urlencoded");
            using var r = await _http.PostAsync($"/m2/{client}/profile/update", content);
            Assert.True(expected == r.StatusCode, $"{bytes} bytes chunked: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
        }
        using (var r = await PostFormAsync(client, "", "{\"mbox3rdPartyId\":\"x\"}", "application/json"))
        {
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, r.StatusCode);
            Assert.Contains("application/x-www-form-urlencoded", await Wire.ProblemMessageAsync(r), StringComparison.Ordinal);
        }
        using (var r = await PostFormAsync(client, $"mbox3rdPartyId={id}&profile.a=1", "profile.a=2"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Contains("both the query string and the body", await Wire.ProblemMessageAsync(r), StringComparison.Ordinal);
        }
        using (var r = await PostFormAsync(client, "", $"mbox3rdPartyId={id}&profile.a=%E2%82"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            Assert.Contains("not valid UTF-8", await Wire.ProblemMessageAsync(r), StringComparison.Ordinal);
        }
    }

    [SkippableFact]
    public async Task Invalid_client_code_answers_400()
    {
        SkipWithoutStore();
        using var response = await GetAsync("-bad", "mbox3rdPartyId=x&profile.a=1");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("client code", await Wire.ProblemMessageAsync(response), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Visit_read_and_update_for_many_concurrent_visitors()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var ids = Enumerable.Range(0, 40).Select(_ => Wire.NewId()).ToArray();
        await Task.WhenAll(ids.Select(id => Wire.VisitAsync(_http, client, thirdPartyId: id)));
        var responses = await Task.WhenAll(ids.Select(id => GetAsync(client, $"mbox3rdPartyId={id}&profile.n={id[^6..]}")));
        foreach (var r in responses) { await AssertSuccessAsync(r, "applied"); r.Dispose(); }
        foreach (var id in ids)
            Assert.Equal(id[^6..], Wire.Attribute((await Wire.ReadByThirdPartyAsync(_http, client, id))!.Value, "n"));
    }

    [SkippableFact]
    public async Task Visit_generates_a_tnt_id_and_keeps_the_first_third_party_link()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var id = Wire.NewId();
        var first = await Wire.VisitAsync(_http, client, thirdPartyId: id);
        Assert.Matches("^[0-9a-f]{32}\\.[A-Za-z0-9_]+$", first);
        var second = await Wire.VisitAsync(_http, client, thirdPartyId: id);
        Assert.Equal(first, second);
        var profile = (await Wire.ReadByTntAsync(_http, client, first))!.Value;
        Assert.Equal(id, profile.GetProperty("thirdPartyId").GetString());
    }
}

public sealed class SingleUpdateOnRedis(RedisServiceFixture fixture) : SingleUpdateContract(fixture), IClassFixture<RedisServiceFixture>;

public sealed class SingleUpdateOnEmbeddedStore(EmbeddedServiceFixture fixture) : SingleUpdateContract(fixture), IClassFixture<EmbeddedServiceFixture>;
