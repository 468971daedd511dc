using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace ProfileUpdate.Benchmarks.Micro;

/// <summary>
/// What a minimal-API handler's service parameters cost per request, the update endpoint's shape (five singletons):
/// bound per request (<c>[AsParameters]</c>: the request opens a DI scope, each service is looked up in it, the scope
/// is disposed when the request ends) or resolved once when the endpoint is mapped and captured by the handler, as
/// UpdateEndpoints does. Both handlers are built by ASP.NET Core's own RequestDelegateFactory, as MapGet builds them,
/// and run on a fresh HttpContext per request.
/// </summary>
[MemoryDiagnoser]
public class EndpointServicesBenchmarks
{
    private RequestDelegate _bound = null!;
    private RequestDelegate _captured = null!;
    private ServiceProvider _provider = null!;
    private IServiceScopeFactory _scopes = null!;

    public sealed class Queue;

    public sealed class Quota;

    public sealed class Limits;

    public sealed class Metrics;

    public sealed class Settings;

    /// <summary>Five singletons as one parameter, as UpdateEndpoints.UpdateServices.</summary>
    public readonly record struct Services(Queue Queue, Quota Quota, Limits Limits, Metrics Metrics, Settings Settings);

    [GlobalSetup]
    public void Setup()
    {
        _provider = new ServiceCollection()
            .AddSingleton<Queue>().AddSingleton<Quota>().AddSingleton<Limits>().AddSingleton<Metrics>().AddSingleton<Settings>()
            .BuildServiceProvider();
        _scopes = _provider.GetRequiredService<IServiceScopeFactory>();
        var options = new RequestDelegateFactoryOptions { ServiceProvider = _provider };
        _bound = RequestDelegateFactory.Create((HttpContext context, [AsParameters] Services services) => Handle(context, services), options).RequestDelegate;
        var resolved = new Services(_provider.GetRequiredService<Queue>(), _provider.GetRequiredService<Quota>(),
            _provider.GetRequiredService<Limits>(), _provider.GetRequiredService<Metrics>(), _provider.GetRequiredService<Settings>());
        _captured = RequestDelegateFactory.Create((HttpContext context) => Handle(context, resolved), options).RequestDelegate;
    }

    [GlobalCleanup]
    public void Cleanup() => _provider.Dispose();

    private static int Handle(HttpContext context, Services services) =>
        services.Queue is null || services.Settings is null ? 0 : context.Response.StatusCode;

    [Benchmark(Baseline = true)]
    public Task BoundPerRequest() => RequestAsync(_bound);

    [Benchmark]
    public Task CapturedAtMapping() => RequestAsync(_captured);

    private async Task RequestAsync(RequestDelegate handler)
    {
        var context = new DefaultHttpContext { ServiceScopeFactory = _scopes };
        await handler(context);
        // The end of the request, as the host does it: the request's services (its DI scope, if one was opened) are disposed.
        if (context.Features.Get<IServiceProvidersFeature>() is IAsyncDisposable services) await services.DisposeAsync();
    }
}
