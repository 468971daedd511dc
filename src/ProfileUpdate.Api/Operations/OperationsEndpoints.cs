using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace ProfileUpdate.Api.Operations;

/// <summary>Liveness and readiness (spec §7).</summary>
public static class OperationsEndpoints
{
    public const string ReadyTag = "ready";

    public static IServiceCollection AddOperations(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<StoreHealthCheck>("profile-store", tags: [ReadyTag]);
        return services;
    }

    public static IEndpointRouteBuilder MapOperations(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false })
            .WithTags("Operations").WithSummary("The process is up");
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag) })
            .WithTags("Operations").WithSummary("The profile store is reachable (503 otherwise)");
        return app;
    }
}
