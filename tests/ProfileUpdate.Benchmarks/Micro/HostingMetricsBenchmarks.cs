using System.Diagnostics;
using System.Diagnostics.Metrics;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using ProfileUpdate.Api.Operations;

namespace ProfileUpdate.Benchmarks.Micro;

/// <summary>
/// What ASP.NET Core hosting's metrics cost per request under the service's OpenTelemetry configuration
/// (<see cref="OperationsEndpoints.AddServiceMetrics"/>, the Prometheus exporter as the reader), with and without
/// <c>http.server.active_requests</c>. The per-request calls are those hosting makes: the up-down counter +1 at the
/// start and -1 at the end with the method and scheme, and the duration histogram with method, scheme, protocol,
/// status code and route at the end. Hosting checks each instrument's <c>Enabled</c> (a dropped view leaves the
/// counter without a listener), so the benchmark does too.
/// </summary>
[MemoryDiagnoser]
public class HostingMetricsBenchmarks
{
    private static readonly object Status200 = 200;
    private ServiceProvider _services = null!;
    private UpDownCounter<long> _activeRequests = null!;
    private Histogram<double> _duration = null!;

    /// <summary>True: the counter exported, as ASP.NET Core's default (the service before); false: the service now.</summary>
    [Params(true, false)]
    public bool ActiveRequests { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var services = new ServiceCollection();
        services.AddMetrics();
        services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddServiceMetrics(ActiveRequests).AddPrometheusExporter());
        _services = services.BuildServiceProvider();
        _ = _services.GetRequiredService<MeterProvider>(); // starts the SDK's listener
        var meter = _services.GetRequiredService<IMeterFactory>().Create("Microsoft.AspNetCore.Hosting");
        _activeRequests = meter.CreateUpDownCounter<long>(OperationsEndpoints.ActiveRequestsInstrument, "{request}");
        _duration = meter.CreateHistogram<double>("http.server.request.duration", "s", advice: new InstrumentAdvice<double>
        {
            HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
        });
        // A benchmark of nothing would look like a gain: both sides must measure what they claim to.
        if (_activeRequests.Enabled != ActiveRequests || !_duration.Enabled)
            throw new InvalidOperationException($"active_requests enabled: {_activeRequests.Enabled}, duration enabled: {_duration.Enabled}");
    }

    [GlobalCleanup]
    public void Cleanup() => _services.Dispose();

    [Benchmark]
    public void Request()
    {
        var tags = new TagList { { "url.scheme", "http" }, { "http.request.method", "GET" } };
        if (_activeRequests.Enabled) _activeRequests.Add(1, tags);

        var end = new TagList { { "url.scheme", "http" }, { "http.request.method", "GET" } };
        if (_activeRequests.Enabled) _activeRequests.Add(-1, end);
        end.Add("network.protocol.version", "1.1");
        end.Add("http.response.status_code", Status200);
        end.Add("http.route", "/m2/{client}/profile/update");
        _duration.Record(0.0021, end);
    }
}
