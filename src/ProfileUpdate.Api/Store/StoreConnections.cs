using StackExchange.Redis;

namespace ProfileUpdate.Api.Store;

/// <summary>
/// The connections to the profile store (writes and reads, see the constructor): the configured Redis (standalone or cluster), or the embedded Garnet when
/// none is configured. Connecting never blocks start-up: a store that is down makes requests answer 503 until it is back,
/// and the multiplexer reconnects by itself.
/// </summary>
public sealed class StoreConnections : IDisposable
{
    private readonly EmbeddedStore? _embedded;
    private readonly ConnectionMultiplexer _readMultiplexer;
    private readonly ConnectionWatch _writes;
    private readonly ConnectionWatch _reads;
    private readonly ConnectionMultiplexer? _bulkMultiplexer;
    private bool? _isCluster;

    public StoreConnections(IConfiguration configuration, IOptions<ProfileUpdateOptions> options, ILoggerFactory loggerFactory)
    {
        var logger = loggerFactory.CreateLogger<StoreConnections>();
        var connectionString = configuration.GetConnectionString("Redis");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            _embedded = new EmbeddedStore(options.Value.Store.Embedded, new PrefixedLoggerFactory(loggerFactory, "Garnet."));
            connectionString = _embedded.ConnectionString;
            Description = $"embedded Garnet on {connectionString} (in memory; set ConnectionStrings:Redis for durable storage)";
        }
        else
        {
            Description = "Redis from ConnectionStrings:Redis";
        }

        ConfigurationOptions config;
        try
        {
            config = ConfigurationOptions.Parse(connectionString);
        }
        catch (ArgumentException ex)
        {
            // The client's own words name the bad part ("Keyword 'x' is not supported"); the string itself is not repeated,
            // as it may hold a password.
            throw new InvalidOperationException($"ConnectionStrings:Redis (environment: ConnectionStrings__Redis) is not a valid Redis connection string: {ex.Message}", ex);
        }
        config.AbortOnConnectFail = false;
        // Fail fast while disconnected instead of queueing: a request must get its 503 within the request timeout,
        // never hang on a backlog that may never drain.
        config.BacklogPolicy = BacklogPolicy.FailFast;
        config.IncludeDetailInExceptions = false; // exception texts would otherwise carry keys, i.e. visitor ids
        if (!connectionString.Contains("connectTimeout", StringComparison.OrdinalIgnoreCase)) config.ConnectTimeout = 2000;
        if (!connectionString.Contains("asyncTimeout", StringComparison.OrdinalIgnoreCase)) config.AsyncTimeout = 1500;
        if (!connectionString.Contains("syncTimeout", StringComparison.OrdinalIgnoreCase)) config.SyncTimeout = 1500;
        config.ReconnectRetryPolicy = new LinearRetry(500);
        // The client checks timeouts and retries connecting on its heartbeat (default every second): measured, a
        // dropped connection then took 0.5-1.3 s to come back, and a 1.5 s AsyncTimeout fired up to a second late.
        config.HeartbeatInterval = TimeSpan.FromMilliseconds(250);
        config.ClientName ??= "profile-update";

        RetryWindow = RetryWindowFor(config, options.Value.Store.ReconnectGrace);
        Multiplexer = ConnectionMultiplexer.Connect(config);
        // Profile reads get their own connection: Redis answers a connection's commands in order, so on the shared one
        // a read would wait behind every write batch sent before it — and time out while Redis holds writes (CLIENT
        // PAUSE WRITE during a failover), though it could answer the read at once.
        var readConfig = config.Clone();
        readConfig.ClientName = config.ClientName + "-reads";
        _readMultiplexer = ConnectionMultiplexer.Connect(readConfig);
        _writes = new ConnectionWatch(Multiplexer, _readMultiplexer, "write", options.Value.Store.ReconnectGrace, logger);
        _reads = new ConnectionWatch(_readMultiplexer, Multiplexer, "read", options.Value.Store.ReconnectGrace, logger);
        // Bulk writes get a connection of their own too: a batch pipelines thousands of commands, and on the shared write
        // connection every single update's script would queue behind them (measured: p99 of single updates at 4,000
        // req/s 3.5 ms alone, 50 ms while a 500,000-row batch applied on the same connection).
        var bulkConfig = config.Clone();
        bulkConfig.ClientName = config.ClientName + "-bulk";
        _bulkMultiplexer = ConnectionMultiplexer.Connect(bulkConfig);
        Bulk = new StoreConnections(this, _bulkMultiplexer, options, logger);
        logger.LogInformation("Profile store: {Store}; connected: {Connected}", Description, Multiplexer.IsConnected);
    }

    /// <summary>The same store through the bulk connection: writes go on <paramref name="writes"/>, reads as the parent's.</summary>
    private StoreConnections(StoreConnections parent, ConnectionMultiplexer writes, IOptions<ProfileUpdateOptions> options, ILogger logger)
    {
        Multiplexer = writes;
        _readMultiplexer = parent._readMultiplexer;
        Description = parent.Description + " (bulk connection)";
        RetryWindow = parent.RetryWindow;
        _writes = new ConnectionWatch(writes, parent.Multiplexer, "bulk", options.Value.Store.ReconnectGrace, logger);
        _reads = parent._reads;
        Bulk = this;
    }

    /// <summary>The view of this store whose writes use the bulk connection (batches); itself for that view.</summary>
    public StoreConnections Bulk { get; }

    /// <summary>Waits (at most ReconnectGrace, see <see cref="ConnectionWatch"/>) for the write connection if it is being re-opened.</summary>
    public ValueTask WaitForWritesAsync() => _writes.WaitAsync();

    /// <summary>Completes at the write connection's next restore (see <see cref="ConnectionWatch.NextRestore"/>).</summary>
    public Task NextWritesRestore => _writes.NextRestore;

    /// <summary>Waits, within ReconnectGrace, for <paramref name="restore"/> (see <see cref="ConnectionWatch.WaitForRestoreAsync"/>).</summary>
    public Task WaitForWritesRestoreAsync(Task restore) => _writes.WaitForRestoreAsync(restore);


    /// <summary>
    /// The longest a write call can take from running in the store to its retry running there, when the connection
    /// broke before the reply came (UpdateApplier retries once after a reconnect): the lost call fails within its command
    /// timeout (AsyncTimeout, checked on the 250 ms heartbeat), the retry waits up to ReconnectGrace twice (for the
    /// restore, then for the connection), and its own call either runs within the command timeout or answers 503. Plus
    /// 5 s for heartbeats, pauses and clock steps. Default settings: 2 × 1.5 s + 2 × 1.5 s + 5 s = 11 s. A reply marker
    /// kept this long (MarkedCall) is still there for any retry that can follow it.
    /// </summary>
    public TimeSpan RetryWindow { get; }

    /// <summary>The reply markers' lifetime (<see cref="RetryWindow"/>) in ms, as their scripts' <c>SET … PX</c> takes it.</summary>
    public long RetryWindowMs => (long)RetryWindow.TotalMilliseconds;

    private static TimeSpan RetryWindowFor(ConfigurationOptions config, TimeSpan reconnectGrace) =>
        2 * TimeSpan.FromMilliseconds(config.AsyncTimeout) + 2 * reconnectGrace + TimeSpan.FromSeconds(5);

    /// <summary>Waits (at most ReconnectGrace, see <see cref="ConnectionWatch"/>) for the read connection if it is being re-opened.</summary>
    public ValueTask WaitForReadsAsync() => _reads.WaitAsync();

    public IConnectionMultiplexer Multiplexer { get; }

    public IDatabase Database => Multiplexer.GetDatabase();

    /// <summary>The profile read API's own connection (see the constructor for why it is separate).</summary>
    public IDatabase ReadDatabase => _readMultiplexer.GetDatabase();

    public string Description { get; }

    public bool IsEmbedded => _embedded is not null;

    /// <summary>True when connected to a Redis Cluster: writes are then grouped per hash slot.</summary>
    public bool IsCluster => ClusterKind() ?? false;

    /// <summary>Whether <see cref="IsCluster"/> is settled: false until a server of the store has answered since start.</summary>
    public bool IsClusterKnown => ClusterKind() is not null;

    /// <summary>Whether the store is a cluster, decided once a server has answered; null until then.</summary>
    private bool? ClusterKind()
    {
        if (_isCluster is not null) return _isCluster;
        var connected = Multiplexer.GetServers().Where(s => s.IsConnected).ToArray();
        if (connected.Length == 0) return null;
        return _isCluster = connected.Any(s => s.ServerType == ServerType.Cluster);
    }

    public int HashSlot(RedisKey key) => Multiplexer.HashSlot(key);

    public void Dispose()
    {
        if (ReferenceEquals(Bulk, this) && _bulkMultiplexer is null) return; // the bulk view: its parent owns everything
        Bulk.DisposeBulkView();
        _writes.Detach();
        _reads.Detach();
        Multiplexer.Dispose();
        _readMultiplexer.Dispose();
        _bulkMultiplexer?.Dispose();
        _embedded?.Dispose();
    }

    private void DisposeBulkView() => _writes.Detach();
}
