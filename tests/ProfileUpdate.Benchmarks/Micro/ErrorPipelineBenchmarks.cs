using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ProfileUpdate.Api;
using ProfileUpdate.Api.Http;

namespace ProfileUpdate.Benchmarks.Micro;

/// <summary>
/// What the service's middleware in front of an endpoint costs per request when the endpoint completes later (as an
/// update does, once its batch is written): the request log, the exception handler and the status-code pages, as
/// Program.cs places them (<see cref="ErrorHandling.UseErrorHandling"/>), for an endpoint that writes its own errors
/// (<see cref="WritesOwnErrors"/> metadata, the update endpoint) and for one that does not. Built on a real
/// WebApplication pipeline with the service's own error services; the endpoint is set on a fresh HttpContext per request
/// (no routing), and completes after every middleware has suspended on it.
/// </summary>
[MemoryDiagnoser]
public class ErrorPipelineBenchmarks
{
    private RequestDelegate _pipeline = null!;
    private WebApplication _app = null!;
    private TaskCompletionSource _pending = new();
    private readonly Endpoint _ownErrors = new(_ => Task.CompletedTask, new EndpointMetadataCollection(WritesOwnErrors.Instance), "update");
    private readonly Endpoint _plain = new(_ => Task.CompletedTask, EndpointMetadataCollection.Empty, "other");

    [GlobalSetup]
    public void Setup()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Information); // the service's level: 2xx lines are not written
        builder.Services.AddErrorHandling();
        builder.Services.AddSingleton(TimeProvider.System);
        _app = builder.Build();
        _app.UseServiceRequestLogging();
        _app.UseErrorHandling();
        _app.Run(_ => _pending.Task);
        _pipeline = ((IApplicationBuilder)_app).Build();
    }

    [GlobalCleanup]
    public async Task CleanupAsync() => await _app.DisposeAsync();

    [Benchmark(Baseline = true)]
    public Task EndpointWithoutMetadata() => RequestAsync(_plain);

    [Benchmark]
    public Task EndpointThatWritesItsOwnErrors() => RequestAsync(_ownErrors);

    private async Task RequestAsync(Endpoint endpoint)
    {
        _pending = new TaskCompletionSource();
        var context = new DefaultHttpContext { RequestServices = _app.Services };
        context.SetEndpoint(endpoint);
        var running = _pipeline(context);
        _pending.SetResult();
        await running;
    }
}
