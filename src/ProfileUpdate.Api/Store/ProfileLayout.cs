using StackExchange.Redis;

namespace ProfileUpdate.Api.Store;

/// <summary>
/// Where a profile and its change-log entries live (docs/architecture.md, key layout): the profile's partition decides
/// both. Profile keys are the same on every store kind, so data moves between standalone Redis and a cluster unchanged.
/// The number of change logs per client depends on the store: one on standalone Redis and the embedded store (a script
/// there may touch any key, so a feed read is one call and a write appends with one command per call), one per partition
/// on Redis Cluster (a script may only touch one slot, and a partition's log shares its profiles' slot).
/// </summary>
public sealed class ProfileLayout(StoreConnections store, IOptions<ProfileUpdateOptions> options)
{
    private readonly long _maxEntries = options.Value.Changes.MaxEntriesPerClient;

    /// <summary>Profiles:Partitions.</summary>
    public int Partitions { get; } = options.Value.Profiles.Partitions;

    /// <summary>The partition of a tntId base: its profile's (and on Redis Cluster its change log's) hash tag.</summary>
    public int Partition(string tntBase) => RedisKeys.Partition(tntBase, Partitions);

    /// <summary>The profile hash of a tntId base.</summary>
    public RedisKey Profile(string client, string tntBase) => RedisKeys.Profile(client, tntBase, Partitions);

    /// <summary>Change logs per client on this store: 1, or Profiles:Partitions on Redis Cluster.</summary>
    public int LogPartitions => store.IsCluster ? Partitions : 1;

    /// <summary>The change log a write to this profile appends to.</summary>
    public RedisKey Log(string client, string tntBase) =>
        RedisKeys.ChangeLog(client, store.IsCluster ? Partition(tntBase) : 0);

    /// <summary>A write's profile hash and the change log it appends to, the profile's partition computed once.</summary>
    public (RedisKey Profile, RedisKey Log) ProfileAndLog(string client, string tntBase)
    {
        var partition = Partition(tntBase);
        return (RedisKeys.ProfileInPartition(client, partition, tntBase), RedisKeys.ChangeLog(client, store.IsCluster ? partition : 0));
    }

    /// <summary>The most entries one log keeps: Changes:MaxEntriesPerClient shared evenly by a client's logs.</summary>
    public long LogCap => (_maxEntries + LogPartitions - 1) / LogPartitions;
}
