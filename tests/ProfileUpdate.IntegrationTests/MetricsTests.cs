using System.Net;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// docs/api.md §7: Prometheus text at /metrics with the service's own instruments; read from a service process of its own
/// (see <see cref="ServiceProcessFixture"/>).
/// </summary>
public sealed class MetricsTests(DefaultServiceProcessFixture fixture) : IClassFixture<DefaultServiceProcessFixture>
{
    [SkippableFact]
    public async Task Metrics_show_updates_by_client_and_outcome_quota_queue_batches_and_bulk_rows()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        var http = fixture.Client;
        var client = Wire.NewClient();
        await Wire.VisitAsync(http, client, thirdPartyId: "m1");
        using (var r = await http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId=m1&profile.a=1")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var r = await http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId=nobody&profile.a=1")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (var r = await Wire.PostBatchAndWaitAsync(http, $"/m2/{client}/v2/profile/batchUpdate", new StringContent("batch=thirdPartyId,a\nb1,1\nbad%2Bid,2\n")))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        await Wire.VisitAsync(http, client, thirdPartyId: "d1");
        await Wire.VisitAsync(http, client, thirdPartyId: "d2");
        using (var r = await http.DeleteAsync($"/rest/v1/profiles/thirdPartyId/d1?client={client}")) Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
        using (var r = await Wire.PostBatchAndWaitAsync(http, $"/m2/{client}/v2/profile/batchDelete", new StringContent("batch=thirdPartyId\nd2\nb1\nnobody\n")))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);

        // The exporter caches a scrape for a short while: poll until this test's client shows up.
        string text = string.Empty;
        await Eventually.TryWaitUntilAsync(async () =>
        {
            text = await http.GetStringAsync("/metrics");
            return text.Contains(client, StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(30), poll: TimeSpan.FromMilliseconds(200));
        Assert.Matches($"(?m)^profileupdate_updates_total{{[^}}]*client=\"{client}\",outcome=\"applied\"}} 1$", text);
        Assert.Matches($"(?m)^profileupdate_updates_total{{[^}}]*client=\"{client}\",outcome=\"profile_not_found\"}} 1$", text);
        Assert.Matches($"(?m)^profileupdate_quota_remaining{{[^}}]*client=\"{client}\"}} 999998$", text);
        Assert.Matches($"(?m)^profileupdate_bulk_rows_total{{[^}}]*client=\"{client}\",outcome=\"created\"}} 1$", text);
        Assert.Matches($"(?m)^profileupdate_bulk_rows_total{{[^}}]*client=\"{client}\",outcome=\"failed\"}} 1$", text);
        Assert.Matches($"(?m)^profileupdate_bulk_rows_total{{[^}}]*client=\"{client}\",outcome=\"deleted\"}} 2$", text);
        Assert.Matches($"(?m)^profileupdate_profiles_deleted_total{{[^}}]*client=\"{client}\",how=\"single\"}} 1$", text);
        Assert.Matches($"(?m)^profileupdate_profiles_deleted_total{{[^}}]*client=\"{client}\",how=\"bulk\"}} 2$", text);
        Assert.Contains("profileupdate_queue_depth", text, StringComparison.Ordinal);
        Assert.Contains("profileupdate_applier_batch_size_bucket", text, StringComparison.Ordinal);
        Assert.Contains("profileupdate_applier_batch_duration_seconds_bucket", text, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task AspNetCore_request_durations_and_Kestrel_connections_are_exported_but_not_active_requests()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        var http = fixture.Client;
        using (var r = await http.GetAsync("/health/live")) Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        string text = string.Empty;
        await Eventually.TryWaitUntilAsync(async () =>
        {
            text = await http.GetStringAsync("/metrics");
            // The exporter caches a scrape for a short while: poll until this request shows up.
            return text.Contains("http_route=\"/health/live\"", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(30), poll: TimeSpan.FromMilliseconds(200));
        Assert.Matches("(?m)^http_server_request_duration_seconds_count{[^}]*http_route=\"/health/live\"", text);
        Assert.Contains("kestrel_active_connections", text, StringComparison.Ordinal);
        // Dropped by a view (OperationsEndpoints.AddServiceMetrics): two tag-set updates per request for a figure that
        // kestrel_active_connections, the queue depth and the duration histogram already give.
        Assert.DoesNotContain("http_server_active_requests", text, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task The_resource_names_the_service_and_its_version()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        var text = await fixture.Client.GetStringAsync("/metrics");
        Assert.Matches("(?m)^target_info{[^}]*service_name=\"profile-update\"", text);
        Assert.Matches("(?m)^target_info{[^}]*service_version=\"\\d+\\.\\d+\\.\\d+\"", text);
        Assert.DoesNotContain("unknown_service", text, StringComparison.Ordinal);
    }
}
