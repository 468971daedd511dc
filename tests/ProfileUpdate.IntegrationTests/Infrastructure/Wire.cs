using System.Net.Http.Json;
using System.Text.Json;

namespace ProfileUpdate.IntegrationTests.Infrastructure;

/// <summary>Small helpers that speak the wire contract, so tests read like the spec.</summary>
public static class Wire
{
    /// <summary>A client code no other test uses: tests share a store but never each other's keys.</summary>
    /// <summary>
    /// POSTs a batch and, like a client that wants the finished result in the answer, asks the service to wait for it
    /// (<c>Prefer: wait</c>): the tests that read what a batch applied right after its answer.
    /// </summary>
    public static async Task<HttpResponseMessage> PostBatchAndWaitAsync(HttpClient http, string url, HttpContent content)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        request.Headers.Add("Prefer", "wait=120");
        return await http.SendAsync(request);
    }

    public static string NewClient() => "t" + Guid.NewGuid().ToString("N")[..16];

    public static string NewId(string prefix = "crm") => $"{prefix}-{Guid.NewGuid():N}";

    /// <summary>Records a visit (docs/api.md §3), which creates the profile; returns the tntId the service answered.</summary>
    public static async Task<string> VisitAsync(HttpClient http, string client, string? tntId = null, string? thirdPartyId = null,
        IReadOnlyDictionary<string, string>? parameters = null)
    {
        var id = new Dictionary<string, string>();
        if (tntId is not null) id["tntId"] = tntId;
        if (thirdPartyId is not null) id["thirdPartyId"] = thirdPartyId;
        var body = new Dictionary<string, object>
        {
            ["context"] = new Dictionary<string, string> { ["channel"] = "web" },
            ["id"] = id,
            ["execute"] = new Dictionary<string, object>
            {
                ["pageLoad"] = new Dictionary<string, object> { ["profileParameters"] = parameters ?? new Dictionary<string, string>() },
            },
        };
        using var response = await http.PostAsJsonAsync($"/rest/v1/delivery?client={client}&sessionId=s1", body);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("id").GetProperty("tntId").GetString()!;
    }

    public static Task<JsonElement?> ReadByThirdPartyAsync(HttpClient http, string client, string thirdPartyId) =>
        ReadProfileAsync(http, $"/rest/v1/profiles/thirdPartyId/{Uri.EscapeDataString(thirdPartyId)}?client={client}");

    public static Task<JsonElement?> ReadByTntAsync(HttpClient http, string client, string tntId) =>
        ReadProfileAsync(http, $"/rest/v1/profiles/{Uri.EscapeDataString(tntId)}?client={client}");

    /// <summary>The profile, or null on 404; any other status fails with the body (a 503 says which store trouble).</summary>
    private static async Task<JsonElement?> ReadProfileAsync(HttpClient http, string url)
    {
        using var response = await http.GetAsync(url);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound) return null;
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.OK, $"profile read answered {(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public static string? Attribute(JsonElement profile, string name) =>
        profile.GetProperty("profileAttributes").TryGetProperty(name, out var a) ? a.GetProperty("value").GetString() : null;

    /// <summary>
    /// An update whose request target is exactly <paramref name="limit"/> bytes is applied (200, not Kestrel's bare 414);
    /// one byte more is the endpoint's own 414, whose message names the limit.
    /// </summary>
    public static async Task AssertRequestTargetLimitAsync(HttpClient http, int limit)
    {
        var prefix = $"/m2/{NewClient()}/profile/update?mbox3rdPartyId=x&profile.a=1&pad=";
        var atLimit = prefix + new string('p', limit - prefix.Length);
        using (var at = await http.GetAsync(atLimit)) Assert.Equal(System.Net.HttpStatusCode.OK, at.StatusCode);

        using var over = await http.GetAsync(atLimit + "p");
        Assert.Equal(System.Net.HttpStatusCode.RequestUriTooLong, over.StatusCode);
        Assert.Contains($"{limit} bytes", await ProblemMessageAsync(over), StringComparison.Ordinal);
    }

    /// <summary>The problem+json message of an error response, asserting the spec's shape on the way.</summary>
    public static async Task<string> ProblemMessageAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var detail = json.RootElement.GetProperty("detail").GetString();
        var message = json.RootElement.GetProperty("message").GetString();
        Assert.Equal((int)response.StatusCode, json.RootElement.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(message));
        Assert.Equal(detail, message);
        return message!;
    }
}
