using System.Net;
using System.Text;
using System.Xml.Linq;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// Requests written the way Adobe's documentation writes them work as written (docs/api.md §1-§3): the single-update
/// examples of Adobe's Single Profile Update pages (German, Swedish, Spanish and Korean editions), the id spellings and
/// limits of its Bulk Profile Update page (Dutch edition), the literal <c>client</c> path placeholder with the client
/// code in the host name, raw '+' in ids, and visits without a session id. Run on real Redis and on the embedded store.
/// </summary>
public abstract class AdobeLiteralContract(IServiceFixture fixture)
{
    private readonly HttpClient _http = fixture.Client;

    private void SkipWithoutStore() => Skip.If(fixture.SkipReason is not null, fixture.SkipReason);

    /// <summary>Sends a request target exactly as written (HttpClient would otherwise re-encode it) with the given Host.</summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string host, string target, HttpContent? content = null, string? prefer = null)
    {
        var uri = new Uri(_http.BaseAddress!.GetLeftPart(UriPartial.Authority) + target,
            new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var request = new HttpRequestMessage(method, uri) { Content = content };
        request.Headers.Host = host;
        if (prefer is not null) request.Headers.Add("Prefer", prefer);
        return await _http.SendAsync(request);
    }

    /// <summary>The profile every seed example names: tntId 1368007744041-575948.01_00, thirdPartyId 123456.</summary>
    private async Task<string> SeedVisitorAsync()
    {
        var client = Wire.NewClient();
        await Wire.VisitAsync(_http, client, tntId: "1368007744041-575948.01_00");
        await Wire.VisitAsync(_http, client, thirdPartyId: "123456");
        return client;
    }

    // Each row: the seed document, and its example URL exactly as the page prints it. The host's placeholder
    // (CLIENT, <your-client-code>, &lt;your-client-code>) stands for a client code: the test puts one in its place.
    public static TheoryData<string, string> SeedExamples => new()
    {
        { "000 (de)", "https://CLIENT.tt.omtrdc.net/m2/client/profile/update?mboxPC=1368007744041-575948.01_00&profile.attr1=0&profile.attr2=1..." },
        { "001 (sv) mboxPC", "https://<your-client-code>.tt.omtrdc.net/m2/client/profile/update?mboxPC=1368007744041-575948.01_00&profile.attr=0&profile.attr2=1..." },
        { "001 (sv) mbox3rdPartyId", "http://<your-client-code>.tt.omtrdc.net/m2/client/profile/update?mbox3rdPartyId=123456&profile.attr=0&profile.attr2=1..." },
        { "002 (es) mboxPC", "https://&lt;your-client-code>.tt.omtrdc.net/m2/client/profile/update?mboxPC=1368007744041-575948.01_00&profile.attr=0&profile.attr2=1..." },
        { "002 (es) mbox3rdPartyId", "http://&lt;your-client-code>.tt.omtrdc.net/m2/client/profile/update?mbox3rdPartyId=123456&profile.attr=0&profile.attr2=1..." },
        { "004 (ko) mboxPC", "https://&lt;your-client-code>.tt.omtrdc.net/m2/client/profile/update?mboxPC=1368007744041-575948.01_00&profile.attr=0&profile.attr2=1..." },
        { "004 (ko) mbox3rdPartyId", "http://&lt;your-client-code>.tt.omtrdc.net/m2/client/profile/update?mbox3rdPartyId=123456&profile.attr=0&profile.attr2=1..." },
    };

    [SkippableTheory]
    [MemberData(nameof(SeedExamples))]
    public async Task Seed_example_applies_as_written_and_is_readable(string seed, string example)
    {
        SkipWithoutStore();
        Assert.False(string.IsNullOrEmpty(seed));
        var client = await SeedVisitorAsync();
        var url = example.Replace("&lt;your-client-code>", client, StringComparison.Ordinal)
            .Replace("<your-client-code>", client, StringComparison.Ordinal)
            .Replace("CLIENT", client, StringComparison.Ordinal);
        var uri = new Uri(url);

        // Sent as GET and, as the pages say both are supported, as POST with the query string in a form body.
        using var get = await SendAsync(HttpMethod.Get, uri.Host, uri.PathAndQuery);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal("applied", Assert.Single(get.Headers.GetValues("X-Profile-Update")));
        using var post = await SendAsync(HttpMethod.Post, uri.Host, uri.AbsolutePath,
            new StringContent(uri.Query.TrimStart('?'), Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.Equal("applied", Assert.Single(post.Headers.GetValues("X-Profile-Update")));

        var profile = uri.Query.Contains("mboxPC=", StringComparison.Ordinal)
            ? await Wire.ReadByTntAsync(_http, client, "1368007744041-575948.01_00")
            : await Wire.ReadByThirdPartyAsync(_http, client, "123456");
        Assert.NotNull(profile);
        Assert.Equal("0", Wire.Attribute(profile.Value, uri.Query.Contains("attr1", StringComparison.Ordinal) ? "attr1" : "attr"));
        Assert.Equal("1...", Wire.Attribute(profile.Value, "attr2"));
    }

    [SkippableTheory]
    [InlineData("mboxThirdPartyId")] // the Dutch bulk page's spelling
    [InlineData("mbox3rdPartyId")]
    [InlineData("THIRDPARTYID")]
    public async Task Batch_with_another_third_party_id_spelling_applies(string column)
    {
        SkipWithoutStore();
        var client = await SeedVisitorAsync();
        var (status, xml) = await SubmitBatchAsync(client, $"batch={column},tier\n123456,gold\n");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("true", xml.Element("success")!.Value);
        Assert.Equal("gold", Wire.Attribute((await Wire.ReadByThirdPartyAsync(_http, client, "123456"))!.Value, "tier"));
    }

    [SkippableTheory]
    [InlineData("tntId")]
    [InlineData("mboxPC")]
    [InlineData("PCID")]
    public async Task Batch_with_another_tnt_id_spelling_applies(string column)
    {
        SkipWithoutStore();
        var client = await SeedVisitorAsync();
        var (status, _) = await SubmitBatchAsync(client, $"batch={column},tier\n1368007744041-575948.01_00,silver\n");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("silver", Wire.Attribute((await Wire.ReadByTntAsync(_http, client, "1368007744041-575948"))!.Value, "tier"));
    }

    [SkippableFact]
    public async Task The_client_placeholder_resolves_from_the_host_for_batches_and_their_status_url_works_as_given()
    {
        SkipWithoutStore();
        var client = await SeedVisitorAsync();
        var host = $"{client}.tt.omtrdc.net";
        using var submit = await SendAsync(HttpMethod.Post, host, "/m2/client/v2/profile/batchUpdate",
            new StringContent("batch=thirdPartyId,tier\n123456,bronze\n", Encoding.UTF8, "text/csv"), prefer: "wait=120");
        Assert.Equal(HttpStatusCode.OK, submit.StatusCode);
        var statusUrl = new Uri(XElement.Parse(await submit.Content.ReadAsStringAsync()).Element("batchStatus")!.Value);
        Assert.Equal(host, statusUrl.Host);

        // Followed as given: same host name, the path and query exactly as in the answer.
        using var status = await SendAsync(HttpMethod.Get, statusUrl.Authority, statusUrl.PathAndQuery);
        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
        Assert.Equal("complete", XElement.Parse(await status.Content.ReadAsStringAsync()).Element("status")!.Value);
        Assert.Equal("bronze", Wire.Attribute((await Wire.ReadByThirdPartyAsync(_http, client, "123456"))!.Value, "tier"));
    }

    [SkippableTheory]
    [InlineData("localhost")]
    [InlineData("127.0.0.1")]
    [InlineData("tt.omtrdc.net")] // two labels before the domain are not enough to name a client
    public async Task Without_a_client_in_the_host_the_placeholder_is_the_literal_client_code(string host)
    {
        SkipWithoutStore();
        // No default client configured and no client configured at all: the code is the literal "client", a valid code.
        using var response = await SendAsync(HttpMethod.Get, host, "/m2/client/profile/update?mbox3rdPartyId=nobody-" + Guid.NewGuid().ToString("N") + "&profile.a=1");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("profile-not-found", Assert.Single(response.Headers.GetValues("X-Profile-Update")));
    }

    [SkippableTheory]
    [InlineData("mbox3rdPartyId=anna+crm@example.com")]
    [InlineData("mbox3rdPartyId=+")]
    [InlineData("mboxPC=1368007744041+575948")]
    public async Task A_raw_plus_in_an_id_is_refused_with_a_reason(string id)
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        await Wire.VisitAsync(_http, client, thirdPartyId: "anna crm@example.com");
        using var response = await SendAsync(HttpMethod.Get, "localhost", $"/m2/{client}/profile/update?{id}&profile.a=1");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("raw '+'", await Wire.ProblemMessageAsync(response), StringComparison.Ordinal);
        Assert.Null(Wire.Attribute((await Wire.ReadByThirdPartyAsync(_http, client, "anna crm@example.com"))!.Value, "a"));
    }

    [SkippableFact]
    public async Task A_plus_in_an_attribute_value_still_means_a_space()
    {
        SkipWithoutStore();
        var client = await SeedVisitorAsync();
        using var response = await SendAsync(HttpMethod.Get, "localhost", $"/m2/{client}/profile/update?mbox3rdPartyId=123456&profile.name=Jane+Q.+Public");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Jane Q. Public", Wire.Attribute((await Wire.ReadByThirdPartyAsync(_http, client, "123456"))!.Value, "name"));
    }

    [SkippableFact]
    public async Task A_raw_plus_in_a_batch_id_cell_fails_that_row_and_creates_nothing()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var (status, xml) = await SubmitBatchAsync(client, "batch=thirdPartyId,tier\nanna+crm@example.com,gold\nbob@example.com,silver\n");
        Assert.Equal(HttpStatusCode.OK, status);
        using var details = await _http.GetAsync(xml.Element("batchStatus")!.Value + "&showDetails=true");
        var report = XElement.Parse(await details.Content.ReadAsStringAsync());
        Assert.Equal("1", report.Element("failedUpdates")!.Value);
        Assert.Equal("1", report.Element("successfulUpdates")!.Value);
        var failed = Assert.Single(report.Elements("profile"));
        Assert.Equal("anna+crm@example.com", failed.Element("id")!.Value);
        Assert.Equal("2", failed.Element("row")!.Value);
        Assert.Contains("raw '+'", failed.Element("message")!.Value, StringComparison.Ordinal);
        Assert.Null(await Wire.ReadByThirdPartyAsync(_http, client, "anna crm@example.com"));
        Assert.NotNull(await Wire.ReadByThirdPartyAsync(_http, client, "bob@example.com"));
    }

    [SkippableFact]
    public async Task A_visit_needs_a_session_id_and_the_node_sdk_request_still_creates_a_visitor()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        const string body = """{"context":{"channel":"web"},"id":{"thirdPartyId":"node-1"}}""";
        using var missing = await SendAsync(HttpMethod.Post, "localhost", $"/rest/v1/delivery?client={client}",
            new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("sessionId", await Wire.ProblemMessageAsync(missing), StringComparison.Ordinal);
        Assert.Null(await Wire.ReadByThirdPartyAsync(_http, client, "node-1"));

        // Adobe's Node.js SDK: only imsOrgId and sessionId in the query, the client code in the host name.
        using var node = await SendAsync(HttpMethod.Post, $"{client}.tt.omtrdc.net", "/rest/v1/delivery?imsOrgId=ABC%40AdobeOrg&sessionId=9f3c",
            new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, node.StatusCode);
        Assert.NotNull(await Wire.ReadByThirdPartyAsync(_http, client, "node-1"));
    }

    private async Task<(HttpStatusCode Status, XElement Xml)> SubmitBatchAsync(string client, string file)
    {
        using var response = await Wire.PostBatchAndWaitAsync(_http, $"/m2/{client}/v2/profile/batchUpdate", new StringContent(file, Encoding.UTF8, "text/csv"));
        return (response.StatusCode, XElement.Parse(await response.Content.ReadAsStringAsync()));
    }
}

public sealed class AdobeLiteralOnRedis(RedisServiceFixture fixture) : AdobeLiteralContract(fixture), IClassFixture<RedisServiceFixture>;

public sealed class AdobeLiteralOnEmbeddedStore(EmbeddedServiceFixture fixture) : AdobeLiteralContract(fixture), IClassFixture<EmbeddedServiceFixture>;
