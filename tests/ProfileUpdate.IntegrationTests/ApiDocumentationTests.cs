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
    [InlineData("/m2/{client}/v2/profile/batchDelete", "post")]
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
        // Each parameter once, however the handler binds it (the single update binds its client from the route).
        var names = parameters.Select(x => (x.GetProperty("name").GetString(), x.GetProperty("in").GetString())).ToList();
        Assert.Equal(names.Distinct().Count(), names.Count);
    }

    [Fact]
    public async Task The_document_names_no_internal_type()
    {
        using var response = await fixture.Client.GetAsync("/openapi/v1.json");
        var text = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("ResolvedClient", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/rest/v1/profiles/{tntId}")]
    [InlineData("/rest/v1/profiles/thirdPartyId/{thirdPartyId}")]
    public async Task Deletes_have_a_summary_a_204_the_error_answers_and_an_example_id(string path)
    {
        using var document = JsonDocument.Parse(await fixture.Client.GetStringAsync("/openapi/v1.json"));
        var operation = document.RootElement.GetProperty("paths").GetProperty(path).GetProperty("delete");
        Assert.False(string.IsNullOrWhiteSpace(operation.GetProperty("summary").GetString()));
        var responses = operation.GetProperty("responses");
        foreach (var status in new[] { "204", "400", "404" }) Assert.True(responses.TryGetProperty(status, out _), status);
        Assert.True(responses.GetProperty("404").GetProperty("content").EnumerateObject().Single().Value.TryGetProperty("example", out _));
        var parameters = operation.GetProperty("parameters").EnumerateArray().ToArray();
        Assert.All(parameters, x => Assert.True(x.TryGetProperty("example", out _), x.GetProperty("name").GetString()));
        Assert.Contains(parameters, x => x.GetProperty("name").GetString() == "client" && x.GetProperty("required").GetBoolean());
    }

    [Theory]
    [InlineData("get")]
    [InlineData("post")]
    public async Task The_single_update_documents_every_answer_it_gives_with_a_title_of_its_own_status(string method)
    {
        using var document = JsonDocument.Parse(await fixture.Client.GetStringAsync("/openapi/v1.json"));
        var responses = document.RootElement.GetProperty("paths").GetProperty("/m2/{client}/profile/update").GetProperty(method).GetProperty("responses");
        foreach (var status in new[] { "200", "400", "401", "404", "414", "429", "503" }) Assert.True(responses.TryGetProperty(status, out _), status);
        foreach (var answer in responses.EnumerateObject().Where(r => r.Name != "200"))
        {
            var example = answer.Value.GetProperty("content").GetProperty("application/problem+json").GetProperty("example");
            Assert.Equal(answer.Name, example.GetProperty("status").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(int.Parse(answer.Name, System.Globalization.CultureInfo.InvariantCulture)),
                example.GetProperty("title").GetString());
        }
    }

    [Fact]
    public async Task Swagger_ui_is_served()
    {
        using var response = await fixture.Client.GetAsync("/swagger/index.html");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("swagger-ui", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
