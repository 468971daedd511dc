using System.Net;
using System.Reflection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using ProfileUpdate.Api.Clients;
using ProfileUpdate.Api.Http;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// Answers the framework gives without a body of its own (no such route, a method the route does not take) still
/// reach the client as problem+json with a message; and an endpoint excused from that (<see cref="WritesOwnErrors"/>)
/// binds nothing the framework could refuse with an empty answer.
/// </summary>
public sealed class FrameworkErrorBodiesTests : IDisposable
{
    private readonly ServiceFactory _factory = new(redisConnectionString: null);
    private readonly HttpClient _http;

    public FrameworkErrorBodiesTests() => _http = _factory.CreateHttpClient();

    public void Dispose()
    {
        _http.Dispose();
        _factory.Dispose();
    }

    [Fact]
    public async Task A_path_no_endpoint_takes_answers_404_problem_json()
    {
        using var response = await _http.GetAsync("/m2/demo/profile/updat?mbox3rdPartyId=x&profile.a=1");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.False(string.IsNullOrWhiteSpace(await Wire.ProblemMessageAsync(response)));
    }

    [Fact]
    public async Task A_method_the_update_route_does_not_take_answers_405_problem_json_with_allow()
    {
        using var response = await _http.PutAsync("/m2/demo/profile/update?mbox3rdPartyId=x&profile.a=1", new StringContent(""));
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.False(string.IsNullOrWhiteSpace(await Wire.ProblemMessageAsync(response)));
        Assert.Contains("GET", response.Content.Headers.Allow);
        Assert.Contains("POST", response.Content.Headers.Allow);
    }

    [Fact]
    public void Endpoints_that_write_their_own_errors_bind_only_what_cannot_fail()
    {
        var endpoints = _factory.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Where(e => e.Metadata.GetMetadata<WritesOwnErrors>() is not null)
            .ToArray();
        Assert.NotEmpty(endpoints); // the single-update endpoints at least
        foreach (var endpoint in endpoints)
        {
            var handler = endpoint.Metadata.GetMetadata<MethodInfo>();
            Assert.NotNull(handler);
            // A parameter bound from the query, route, body or services could make the framework answer 400 (or 500)
            // with no body, which the status-code pages would otherwise have filled in. ResolvedClient's bindings (BindAsync,
            // or TryParse from the route on the single update) always succeed: the filter decides about the client.
            Assert.All(handler!.GetParameters(), p => Assert.True(
                p.ParameterType == typeof(ResolvedClient) || p.ParameterType == typeof(HttpContext) || p.ParameterType == typeof(CancellationToken),
                $"{endpoint.DisplayName} binds {p.ParameterType.Name} {p.Name}"));
        }
    }
}
