using Microsoft.Extensions.Diagnostics.HealthChecks;
using ProfileUpdate.Api.Store;

namespace ProfileUpdate.Api.Operations;

/// <summary>
/// Ready = both connections to the profile store (writes, reads) answer, and every primary holds the service's Lua
/// scripts (SCRIPT LOAD is idempotent, so this also re-loads them after a Redis restart or failover before traffic needs them).
/// </summary>
public sealed class StoreHealthCheck(StoreConnections store, ScriptCatalog scripts) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var ping = store.Database.PingAsync();
            var readPing = store.ReadDatabase.PingAsync(); // the read API's own connection must answer too
            await Task.WhenAll(ping, readPing).WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
            var latency = await ping;
            var primaries = store.Multiplexer.GetServers().Where(s => s.IsConnected && !s.IsReplica).ToArray();
            if (primaries.Length == 0) return HealthCheckResult.Unhealthy("no connected primary");
            await Task.WhenAll(primaries.SelectMany(server => scripts.All.Select(script => server.ScriptLoadAsync(script.Source))))
                .WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
            return HealthCheckResult.Healthy($"profile store answered in {latency.TotalMilliseconds:0.0} ms; scripts loaded on {primaries.Length} primaries");
        }
        catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"profile store unreachable ({ex.GetType().Name})");
        }
    }
}
