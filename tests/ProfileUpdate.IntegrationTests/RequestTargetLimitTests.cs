using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// Limits:MaxGetBytes is the endpoint's limit on the request target only as far as Kestrel lets a request line through
/// (65,536 bytes with the method and version): the setting is bounded so that every value it accepts is enforced by the
/// endpoint, with its 414 that names the limit, and never by Kestrel's bare one. On the embedded store, no Redis needed.
/// </summary>
public sealed class RequestTargetLimitTests
{
    [Fact]
    public async Task The_largest_accepted_limit_is_the_endpoints_own_and_one_more_refuses_to_start_naming_the_setting()
    {
        using (var factory = new ServiceFactory(null, new Dictionary<string, string?> { ["ProfileUpdate:Limits:MaxGetBytes"] = "65000" }))
        using (var http = factory.CreateHttpClient())
            await Wire.AssertRequestTargetLimitAsync(http, 65_000);

        using var tooLarge = new ServiceFactory(null, new Dictionary<string, string?> { ["ProfileUpdate:Limits:MaxGetBytes"] = "65001" });
        var refused = Assert.ThrowsAny<Exception>(() => tooLarge.CreateHttpClient());
        Assert.Contains("MaxGetBytes", Messages(refused), StringComparison.Ordinal);
    }

    private static string Messages(Exception e) =>
        e.Message + (e is AggregateException a ? " | " + string.Join(" | ", a.InnerExceptions.Select(Messages)) : "")
                  + (e.InnerException is { } inner && e is not AggregateException ? " | " + Messages(inner) : "");
}
