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

    /// <summary>
    /// What each operation can answer, from its handler, the client check of its group (400 client code, 404 unknown
    /// client, 401 where tokens are checked), the exception handlers (408 slow body, 503 store) and the body limits.
    /// </summary>
    public static TheoryData<string, string, string> Answers => new()
    {
        { "/m2/{client}/profile/update", "get", "200 400 401 404 414 429 503" },
        { "/m2/{client}/profile/update", "post", "200 400 401 404 408 413 414 415 429 503" },
        { "/rest/v1/delivery", "post", "200 400 404 408 413 415 503" },
        { "/m2/{client}/profile/batchUpdate", "post", "200 400 401 404 408 413 415 429 503" },
        { "/m2/{client}/v2/profile/batchUpdate", "post", "200 400 401 404 408 413 415 429 503" },
        { "/m2/{client}/v2/profile/batchDelete", "post", "200 400 401 404 408 413 415 429 503" },
        { "/m2/{client}/profile/batchStatus", "get", "200 400 401 404 503" },
        { "/m2/{client}/v2/profile/batchStatus", "get", "200 400 401 404 503" },
        { "/rest/v1/profiles/{tntId}", "get", "200 400 401 404 503" },
        { "/rest/v1/profiles/thirdPartyId/{thirdPartyId}", "get", "200 400 401 404 503" },
        { "/rest/v1/profiles/{tntId}", "delete", "204 400 401 404 503" },
        { "/rest/v1/profiles/thirdPartyId/{thirdPartyId}", "delete", "204 400 401 404 503" },
        { "/rest/v1/changes", "get", "200 400 401 404 410 503" },
    };

    [Theory]
    [MemberData(nameof(Answers))]
    public async Task Every_operation_documents_exactly_the_answers_it_can_give_in_its_format(string path, string method, string statuses)
    {
        using var document = JsonDocument.Parse(await fixture.Client.GetStringAsync("/openapi/v1.json"));
        var responses = document.RootElement.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("responses");
        Assert.Equal(statuses, string.Join(' ', responses.EnumerateObject().Select(r => r.Name).Order(StringComparer.Ordinal)));
        var errorFormat = path.Contains("/batch", StringComparison.Ordinal) ? "application/xml" : "application/problem+json";
        foreach (var answer in responses.EnumerateObject().Where(r => r.Name[0] is '4' or '5'))
        {
            var content = Assert.Single(answer.Value.GetProperty("content").EnumerateObject());
            Assert.Equal(errorFormat, content.Name);
            Assert.True(content.Value.TryGetProperty("example", out _), answer.Name);
            Assert.False(string.IsNullOrWhiteSpace(answer.Value.GetProperty("description").GetString()), answer.Name);
        }
        if (responses.TryGetProperty("401", out var unauthorized))
            Assert.True(unauthorized.GetProperty("headers").TryGetProperty("WWW-Authenticate", out _));
        Assert.True(responses.GetProperty("503").GetProperty("headers").TryGetProperty("Retry-After", out _));
    }

    [Fact]
    public async Task Every_operation_in_the_document_has_its_answers_listed_above()
    {
        using var document = JsonDocument.Parse(await fixture.Client.GetStringAsync("/openapi/v1.json"));
        var listed = Answers.Select(row => $"{row[1]} {row[0]}").Order(StringComparer.Ordinal);
        var documented = document.RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(method => $"{method.Name} {path.Name}")).Order(StringComparer.Ordinal);
        Assert.Equal(listed, documented);
    }

    [Fact]
    public async Task The_bulk_erase_offers_no_emptyValues_parameter()
    {
        using var document = JsonDocument.Parse(await fixture.Client.GetStringAsync("/openapi/v1.json"));
        var parameters = document.RootElement.GetProperty("paths").GetProperty("/m2/{client}/v2/profile/batchDelete").GetProperty("post").GetProperty("parameters");
        Assert.DoesNotContain(parameters.EnumerateArray(), p => p.GetProperty("name").GetString() == "emptyValues");
        Assert.Contains(parameters.EnumerateArray(), p => p.GetProperty("name").GetString() == "Prefer");
    }

    [Fact]
    public async Task Swagger_ui_is_served()
    {
        using var response = await fixture.Client.GetAsync("/swagger/index.html");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("swagger-ui", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
