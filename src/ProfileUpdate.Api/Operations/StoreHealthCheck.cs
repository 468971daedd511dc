using Microsoft.Extensions.Diagnostics.HealthChecks;
using ProfileUpdate.Api.Store;

namespace ProfileUpdate.Api.Operations;

/// <summary>Ready = the profile store answers a PING.</summary>
public sealed class StoreHealthCheck(RedisStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var latency = await store.Database.PingAsync().WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
            return HealthCheckResult.Healthy($"profile store answered in {latency.TotalMilliseconds:0.0} ms");
        }
        catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"profile store unreachable ({ex.GetType().Name})");
        }
    }
}
