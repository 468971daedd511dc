using System.Net;
using System.Net.Http.Headers;
using System.Text;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>docs/api.md §5: per-client tokens on the update, bulk and read APIs; open clients stay open.</summary>
public sealed class AuthenticationTests : IDisposable
{
    private const string Token = "secure-token-of-client-a-0001";
    private const string RotatedToken = "secure-token-of-client-a-0002";
    private const string OtherToken = "secure-token-of-client-b-0001";
    private readonly RedisServer _redis = new();
    private readonly ServiceFactory? _factory;
    private readonly HttpClient? _http;

    public AuthenticationTests()
    {
        if (!RedisServer.IsAvailable) return;
        _factory = new ServiceFactory(_redis.ConnectionString, new Dictionary<string, string?>
        {
            ["ProfileUpdate:Clients:secured:Tokens:0"] = Token,
            ["ProfileUpdate:Clients:secured:Tokens:1"] = RotatedToken,
            ["ProfileUpdate:Clients:other:Tokens:0"] = OtherToken,
            ["ProfileUpdate:Clients:open:QuotaLimit"] = "1000",
        });
        _http = _factory.CreateHttpClient();
    }

    public void Dispose()
    {
        _http?.Dispose();
        _factory?.Dispose();
        _redis.Dispose();
    }

    private async Task<HttpResponseMessage> SendAsync(string url, string? bearer = null, string? accessToken = null, HttpMethod? method = null, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, url) { Content = content };
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        if (accessToken is not null) request.Headers.TryAddWithoutValidation("access_token", accessToken);
        return await _http!.SendAsync(request);
    }

    [SkippableFact]
    public async Task A_client_with_tokens_needs_its_own_token_on_every_protected_api()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        await Wire.VisitAsync(_http!, "secured", thirdPartyId: "v1");
        const string update = "/m2/secured/profile/update?mbox3rdPartyId=v1&profile.a=1";

        foreach (var (bearer, access, label) in new (string?, string?, string)[]
                 {
                     (null, null, "no token"), ("wrong-token-wrong-token", null, "wrong token"), (OtherToken, null, "another client's token"),
                     (null, OtherToken, "another client's token as access_token"), ("", null, "empty bearer"),
                 })
        {
            using var denied = await SendAsync(update, bearer, access);
            Assert.True(denied.StatusCode == HttpStatusCode.Unauthorized, $"{label}: {denied.StatusCode}");
            Assert.Equal("Bearer", denied.Headers.WwwAuthenticate.Single().Scheme);
            Assert.Contains("token", await Wire.ProblemMessageAsync(denied), StringComparison.OrdinalIgnoreCase);
        }

        using (var bearer = await SendAsync(update, bearer: Token)) Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
        using (var rotated = await SendAsync(update, bearer: RotatedToken)) Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        using (var legacy = await SendAsync(update, accessToken: Token)) Assert.Equal(HttpStatusCode.OK, legacy.StatusCode);

        using (var read = await SendAsync("/rest/v1/profiles/thirdPartyId/v1?client=secured")) Assert.Equal(HttpStatusCode.Unauthorized, read.StatusCode);
        using (var read = await SendAsync("/rest/v1/profiles/thirdPartyId/v1?client=secured", bearer: Token)) Assert.Equal(HttpStatusCode.OK, read.StatusCode);

        using (var bulk = await SendAsync("/m2/secured/v2/profile/batchUpdate", method: HttpMethod.Post,
                   content: new StringContent("batch=thirdPartyId,a\nv1,2\n", Encoding.UTF8, "text/csv")))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, bulk.StatusCode);
            Assert.Contains("<success>false</success>", await bulk.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var bulk = await SendAsync("/m2/secured/v2/profile/batchUpdate", bearer: Token, method: HttpMethod.Post,
                   content: new StringContent("batch=thirdPartyId,a\nv1,2\n", Encoding.UTF8, "text/csv")))
            Assert.Equal(HttpStatusCode.OK, bulk.StatusCode);
        using (var status = await SendAsync("/m2/secured/profile/batchStatus?batchId=x")) Assert.Equal(HttpStatusCode.Unauthorized, status.StatusCode);
    }

    [SkippableFact]
    public async Task Deletes_and_bulk_erase_need_the_clients_own_token()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        await Wire.VisitAsync(_http!, "secured", thirdPartyId: "gone-1");
        await Wire.VisitAsync(_http!, "secured", thirdPartyId: "gone-2");
        const string delete = "/rest/v1/profiles/thirdPartyId/gone-1?client=secured";
        using (var denied = await SendAsync(delete, method: HttpMethod.Delete)) Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
        using (var denied = await SendAsync(delete, bearer: OtherToken, method: HttpMethod.Delete)) Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
        using (var read = await SendAsync("/rest/v1/profiles/thirdPartyId/gone-1?client=secured", bearer: Token)) Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        using (var deleted = await SendAsync(delete, bearer: Token, method: HttpMethod.Delete)) Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);

        using (var erase = await SendAsync("/m2/secured/v2/profile/batchDelete", method: HttpMethod.Post,
                   content: new StringContent("batch=thirdPartyId\ngone-2\n", Encoding.UTF8, "text/csv")))
            Assert.Equal(HttpStatusCode.Unauthorized, erase.StatusCode);
        using (var read = await SendAsync("/rest/v1/profiles/thirdPartyId/gone-2?client=secured", bearer: Token)) Assert.Equal(HttpStatusCode.OK, read.StatusCode);
    }

    [SkippableFact]
    public async Task Open_clients_need_no_token_and_unknown_clients_are_404()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        await Wire.VisitAsync(_http!, "open", thirdPartyId: "v1");
        using (var ok = await SendAsync("/m2/open/profile/update?mbox3rdPartyId=v1&profile.a=1")) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        // A token of another client does not matter to an open client.
        using (var ok = await SendAsync("/m2/open/profile/update?mbox3rdPartyId=v1&profile.a=2", bearer: Token)) Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        using var unknown = await SendAsync("/m2/nobody/profile/update?mbox3rdPartyId=v1&profile.a=1", bearer: Token);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }
}
