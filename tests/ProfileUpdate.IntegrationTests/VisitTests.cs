using System.Net;
using System.Text;
using System.Text.Json;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>docs/api.md §3 behaviour that the update tests do not already cover.</summary>
public sealed class VisitTests(RedisServiceFixture fixture) : IClassFixture<RedisServiceFixture>
{
    private async Task<HttpResponseMessage> PostAsync(string url, string json, string? host = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (host is not null) request.Headers.Host = host;
        return await fixture.Client.SendAsync(request);
    }

    [SkippableFact]
    public async Task Client_code_comes_from_the_host_when_the_sdk_sends_none()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        var client = Wire.NewClient();
        var id = Wire.NewId();
        using var response = await PostAsync("/rest/v1/delivery?imsOrgId=ABC@AdobeOrg&sessionId=s1",
            $$$"""{"context":{"channel":"web","address":{"url":"https://x"}},"id":{"thirdPartyId":"{{{id}}}"},"experienceCloud":{}}""",
            host: $"{client}.tt.example.com");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(client, json.RootElement.GetProperty("client").GetString());
        Assert.Equal(200, json.RootElement.GetProperty("status").GetInt32());
        Assert.NotNull(await Wire.ReadByThirdPartyAsync(fixture.Client, client, id));
    }

    [SkippableTheory]
    [InlineData("""{"id":{"tntId":"abc"}}""", "context")]
    [InlineData("""{"context":{"channel":"tv"}}""", "context.channel")]
    [InlineData("""{"context":{"channel":"web"},"id":{"thirdPartyId":"a/b"}}""", "'+' or '/'")]
    [InlineData("""{"context":{"channel":"web"},"execute":{"pageLoad":{"profileParameters":{"profile.a":"1"}}}}""", "prefix")]
    [InlineData("""{"context":""", "not valid JSON")]
    [InlineData("""[1,2,3]""", "JSON object")]
    [InlineData("""{"context":{"channel":"web"},"id":{"thirdPartyId":""}}""", "id.thirdPartyId must not be empty")]
    [InlineData("""{"context":{"channel":"web"},"id":{"tntId":""}}""", "id.tntId must not be empty")]
    public async Task Invalid_visits_answer_400_with_a_message(string json, string expected)
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        using var response = await PostAsync($"/rest/v1/delivery?client={Wire.NewClient()}&sessionId=s1", json);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await Wire.ProblemMessageAsync(response), StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_repeated_client_parameter_is_refused_as_repeated_on_every_endpoint_that_reads_it()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        const string expected = "The query parameter client is given more than once; give it once: client=<your client code>.";
        using (var visit = await PostAsync("/rest/v1/delivery?client=demo&client=x&sessionId=s1", """{"context":{"channel":"web"}}"""))
        {
            Assert.Equal(HttpStatusCode.BadRequest, visit.StatusCode);
            Assert.Equal(expected, await Wire.ProblemMessageAsync(visit));
        }
        foreach (var (method, url) in new[]
                 {
                     (HttpMethod.Get, "/rest/v1/profiles/thirdPartyId/crm-1?client=demo&client=demo"),
                     (HttpMethod.Get, "/rest/v1/profiles/abc?client=demo&client=x"),
                     (HttpMethod.Delete, "/rest/v1/profiles/thirdPartyId/crm-1?client=demo&client=x"),
                     (HttpMethod.Delete, "/rest/v1/profiles/abc?client=&client=demo"),
                     (HttpMethod.Get, "/rest/v1/changes?client=demo&client=x"),
                 })
        {
            using var response = await fixture.Client.SendAsync(new HttpRequestMessage(method, url));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(expected, await Wire.ProblemMessageAsync(response));
        }
    }

    [SkippableFact]
    public async Task No_client_anywhere_answers_400_and_reads_need_a_client()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        using var visit = await PostAsync("/rest/v1/delivery?sessionId=s1", """{"context":{"channel":"web"}}""");
        Assert.Equal(HttpStatusCode.BadRequest, visit.StatusCode);
        Assert.Contains("client", await Wire.ProblemMessageAsync(visit), StringComparison.Ordinal);

        using var read = await fixture.Client.GetAsync("/rest/v1/profiles/thirdPartyId/crm-1");
        Assert.Equal(HttpStatusCode.BadRequest, read.StatusCode);
        Assert.Contains("client", await Wire.ProblemMessageAsync(read), StringComparison.Ordinal);
    }
}
