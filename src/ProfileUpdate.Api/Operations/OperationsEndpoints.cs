using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace ProfileUpdate.Api.Operations;

/// <summary>Liveness, readiness and the metrics endpoint.</summary>
public static class OperationsEndpoints
{
    public const string ReadyTag = "ready";

    /// <summary>The OpenTelemetry resource's service.name.</summary>
    public const string ServiceName = "profile-update";

    public static IServiceCollection AddOperations(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<StoreHealthCheck>("profile-store", tags: [ReadyTag]);
        services.AddHostedService<RuntimeReport>();
        // Prometheus text at /metrics from the service's own meter (each feature's instruments) plus ASP.NET Core's and the runtime's.
        // The resource names the service in every exported series (target_info), instead of the SDK's "unknown_service:…".
        var version = typeof(OperationsEndpoints).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName, serviceVersion: version))
            .WithMetrics(metrics => metrics.AddServiceMetrics().AddPrometheusExporter());
        return services;
    }

    /// <summary>
    /// The meters and views the service exports: its own instruments, ASP.NET Core's, Kestrel's and the runtime's, except
    /// <c>http.server.active_requests</c>. That up-down counter is updated twice per request (+1, -1: each a tag-set lookup
    /// and an update of one metric point that every thread shares), which made it the larger part of the metrics' cost on
    /// the single-update path (HostingMetricsBenchmarks: hosting's per-request metrics 171 → 94 ns; in a perf profile under
    /// load about 0.2 µs per update). The question it answers is answered by <c>kestrel.active_connections</c>, the
    /// service's queue depth and <c>http.server.request.duration</c> (rate × duration). <paramref name="activeRequests"/>
    /// true keeps it, as ASP.NET Core's default does (the benchmark's "before").
    /// </summary>
    public static MeterProviderBuilder AddServiceMetrics(this MeterProviderBuilder metrics, bool activeRequests = false)
    {
        metrics
            .AddMeter(ServiceMeter.Name, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Runtime")
            .AddView("profileupdate.applier.batch.size", new ExplicitBucketHistogramConfiguration
            {
                Boundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
            })
            .AddView("profileupdate.applier.batch.duration", new ExplicitBucketHistogramConfiguration
            {
                Boundaries = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
            });
        if (!activeRequests) metrics.AddView(ActiveRequestsInstrument, MetricStreamConfiguration.Drop);
        return metrics;
    }

    /// <summary>ASP.NET Core hosting's requests-in-flight instrument, not exported (see <see cref="AddServiceMetrics"/>).</summary>
    public const string ActiveRequestsInstrument = "http.server.active_requests";

    public static IEndpointRouteBuilder MapOperations(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false })
            .WithTags("Operations").WithSummary("The process is up");
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag) })
            .WithTags("Operations").WithSummary("The profile store is reachable (503 otherwise)");
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }
}
