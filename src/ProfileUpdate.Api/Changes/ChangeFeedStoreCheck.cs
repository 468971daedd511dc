using ProfileUpdate.Api.Store;

namespace ProfileUpdate.Api.Changes;

/// <summary>
/// Refuses to start with the change feed on against a Redis Cluster. A client's log is one key, in another hash slot
/// than its profiles, so a cluster cannot append an entry in the same atomic script as its change; rather than write
/// changes without their entries (or fail every write with CROSSSLOT), the service does not start. See
/// docs/architecture.md "Change feed" for the partitioned layout a cluster would need.
/// </summary>
public sealed class ChangeFeedStoreCheck(StoreConnections store, IOptions<ProfileUpdateOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Changes.Enabled && store.IsCluster)
            throw new InvalidOperationException(
                "ProfileUpdate:Changes:Enabled is true but the store is a Redis Cluster, where the change feed is not supported yet " +
                "(an entry could not be written in the same atomic step as its change). Turn the feed off " +
                "(ProfileUpdate__Changes__Enabled=false) or use standalone Redis or the embedded store.");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
