using System.Net;
using System.Text.Json;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>The OpenAPI document and Swagger UI are served and describe every endpoint of the contract.</summary>
public sealed class ApiDocumentationTests(EmbeddedServiceFixture fixture) : IClassFixture<EmbeddedServiceFixture>
{
    [Theory]
    [InlineData("/m2/{client}/profile/update", "get")]
    [InlineData("/m2/{client}/profile/update", "post")]
    [InlineData("/rest/v1/delivery", "post")]
    [InlineData("/m2/{client}/profile/batchUpdate", "post")]
    [InlineData("/m2/{client}/v2/profile/batchUpdate", "post")]
    [InlineData("/m2/{client}/profile/batchStatus", "get")]
    [InlineData("/m2/{client}/v2/profile/batchStatus", "get")]
    [InlineData("/rest/v1/profiles/{tntId}", "get")]
    [InlineData("/rest/v1/profiles/thirdPartyId/{thirdPartyId}", "get")]
    public async Task Every_endpoint_has_a_summary_responses_and_an_example(string path, string method)
    {
        using var response = await fixture.Client.GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var operation = document.RootElement.GetProperty("paths").GetProperty(path).GetProperty(method);

        Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("summary").GetString()));
        var responses = operation.GetProperty("responses");
        Assert.True(responses.TryGetProperty("200", out var ok));
        Assert.True(responses.TryGetProperty("400", out _));
        Assert.True(ok.GetProperty("content").EnumerateObject().Any(c => c.Value.TryGetProperty("example", out _)), "200 has no example");
        var parameters = operation.TryGetProperty("parameters", out var p) ? p.EnumerateArray().ToArray() : [];
        Assert.All(parameters.Where(x => x.GetProperty("in").GetString() == "path"), x => Assert.True(x.TryGetProperty("example", out _)));
    }

    [Fact]
    public async Task Swagger_ui_is_served()
    {
        using var response = await fixture.Client.GetAsync("/swagger/index.html");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("swagger-ui", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
