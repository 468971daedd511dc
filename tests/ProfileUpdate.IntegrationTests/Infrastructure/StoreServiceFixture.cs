using Microsoft.Extensions.DependencyInjection;
using ProfileUpdate.Api.Store;
using StackExchange.Redis;

namespace ProfileUpdate.IntegrationTests.Infrastructure;

/// <summary>Which store a <see cref="StoreServiceFixture"/> runs the service on.</summary>
public enum StoreKind
{
    Redis,
    Embedded,
    Cluster,
}

/// <summary>
/// The service with its own settings on a store of its own (real redis-server, the embedded Garnet, or a 3-master Redis
/// Cluster), with a view of the store's keys: tests that must prove what is NOT left in the store scan it.
/// </summary>
public abstract class StoreServiceFixture : IServiceFixture, IDisposable
{
    private readonly RedisServer? _redis;
    private readonly RedisCluster? _cluster;
    private readonly ServiceFactory? _factory;

    protected StoreServiceFixture(StoreKind kind, IReadOnlyDictionary<string, string?>? settings = null)
    {
        Kind = kind;
        string? connection = null;
        switch (kind)
        {
            case StoreKind.Redis:
                if (!RedisServer.IsAvailable) { SkipReason = RedisServer.SkipReason; return; }
                _redis = new RedisServer();
                connection = _redis.ConnectionString;
                break;
            case StoreKind.Cluster:
                if (!RedisCluster.IsAvailable) { SkipReason = RedisCluster.SkipReason; return; }
                _cluster = new RedisCluster();
                connection = _cluster.ConnectionString;
                break;
        }
        _factory = new ServiceFactory(connection, settings);
        Client = _factory.CreateHttpClient();
        if (kind == StoreKind.Cluster)
        {
            // cluster_state:ok on one node is not yet every node serving its slots: write to keys all over the slots first.
            var db = Store.GetDatabase();
            Eventually.WaitUntil(() =>
            {
                try
                {
                    foreach (var tag in "abcdefghij") db.StringSet($"probe{{{tag}}}", 1, TimeSpan.FromSeconds(5));
                    return true;
                }
                // A node still taking its slots may also let a command time out (RedisTimeoutException is not a
                // RedisException): on a loaded CI machine that aborted the whole fixture instead of asking again.
                catch (Exception ex) when (ex is RedisException or RedisTimeoutException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(60), "every node of the cluster to serve writes", TimeSpan.FromMilliseconds(200));
        }
    }

    public StoreKind Kind { get; }

    public string StoreName => Kind.ToString().ToLowerInvariant();

    public string? SkipReason { get; }

    public HttpClient Client { get; } = null!;

    /// <summary>The service's container (its singletons: what a test observes inside the service).</summary>
    public IServiceProvider Services => _factory!.Services;

    /// <summary>The service's own connection to its store.</summary>
    public IConnectionMultiplexer Store => _factory!.Services.GetRequiredService<StoreConnections>().Multiplexer;

    /// <summary>Every key of every primary matching <paramref name="pattern"/> (SCAN).</summary>
    public async Task<List<string>> KeysAsync(string pattern)
    {
        var keys = new List<string>();
        foreach (var server in Store.GetServers().Where(s => !s.IsReplica && s.IsConnected))
            await foreach (var key in server.KeysAsync(pattern: pattern, pageSize: 1000)) keys.Add(key!);
        return keys;
    }

    public void Dispose()
    {
        Client?.Dispose();
        _factory?.Dispose();
        _redis?.Dispose();
        _cluster?.Dispose();
        GC.SuppressFinalize(this);
    }
}
