using BenchmarkDotNet.Attributes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;

namespace ProfileUpdate.Benchmarks.Micro;

/// <summary>
/// What an endpoint filter costs per request when the handler completes later (as an update's does): the same handler
/// built by RequestDelegateFactory with no filter and with one pass-through filter (the shape of ClientFilter, which
/// sets an argument and calls next).
/// </summary>
[MemoryDiagnoser]
public class EndpointFilterBenchmarks
{
    private RequestDelegate _plain = null!;
    private RequestDelegate _filtered = null!;
    private RequestDelegate _bound = null!;
    private RequestDelegate _routeBound = null!;
    private ServiceProvider _provider = null!;
    private TaskCompletionSource<IResult> _pending = new();

    [GlobalSetup]
    public void Setup()
    {
        _provider = new ServiceCollection().BuildServiceProvider();
        Func<HttpContext, Task<IResult>> handler = _ => _pending.Task;
        _plain = RequestDelegateFactory.Create(handler, new RequestDelegateFactoryOptions { ServiceProvider = _provider }).RequestDelegate;
        _filtered = RequestDelegateFactory.Create(handler, new RequestDelegateFactoryOptions
        {
            ServiceProvider = _provider,
            EndpointBuilder = new FilterEndpointBuilder(_provider),
        }).RequestDelegate;
        // The shape of the update endpoint: the filter's parameter bound through BindAsync (as ResolvedClient is).
        Func<Placeholder, HttpContext, Task<IResult>> boundHandler = (_, _) => _pending.Task;
        _bound = RequestDelegateFactory.Create(boundHandler, new RequestDelegateFactoryOptions
        {
            ServiceProvider = _provider,
            EndpointBuilder = new FilterEndpointBuilder(_provider, bound: true),
        }).RequestDelegate;
        // The update endpoint since: the same parameter bound from the route through TryParse (no extra async frame).
        Func<Placeholder, HttpContext, Task<IResult>> routeHandler = ([FromRoute(Name = "client")] _, _) => _pending.Task;
        _routeBound = RequestDelegateFactory.Create(routeHandler, new RequestDelegateFactoryOptions
        {
            ServiceProvider = _provider,
            RouteParameterNames = ["client"],
            EndpointBuilder = new FilterEndpointBuilder(_provider, bound: true),
        }).RequestDelegate;
    }

    [GlobalCleanup]
    public void Cleanup() => _provider.Dispose();

    [Benchmark(Baseline = true)]
    public Task NoFilter() => RequestAsync(_plain);

    [Benchmark]
    public Task PassThroughFilter() => RequestAsync(_filtered);

    [Benchmark]
    public Task PassThroughFilterBindAsyncParameter() => RequestAsync(_bound);

    [Benchmark]
    public Task PassThroughFilterRouteParameter() => RequestAsync(_routeBound);

    private async Task RequestAsync(RequestDelegate handler)
    {
        _pending = new TaskCompletionSource<IResult>();
        var context = new DefaultHttpContext { RequestServices = _provider };
        context.Request.RouteValues["client"] = "bench";
        var running = handler(context);
        _pending.SetResult(Results.Empty);
        await running;
    }

    private sealed class FilterEndpointBuilder : Microsoft.AspNetCore.Builder.EndpointBuilder
    {
        public FilterEndpointBuilder(IServiceProvider services, bool bound = false)
        {
            ApplicationServices = services;
            FilterFactories.Add((_, next) => invocation =>
            {
                invocation.Arguments[0] = bound ? Placeholder.Resolved : invocation.HttpContext;
                return next(invocation);
            });
        }

        public override Endpoint Build() => throw new NotSupportedException();
    }
}

/// <summary>A parameter bound like ResolvedClient: BindAsync hands a placeholder, the filter replaces it.</summary>
public sealed class Placeholder
{
    public static readonly Placeholder Resolved = new();

    public static ValueTask<Placeholder?> BindAsync(HttpContext context) => ValueTask.FromResult<Placeholder?>(Resolved);

    public static bool TryParse(string? value, out Placeholder result)
    {
        result = Resolved;
        return true;
    }
}
