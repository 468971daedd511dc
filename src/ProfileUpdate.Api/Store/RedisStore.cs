using System.Diagnostics;
using Microsoft.Extensions.Options;
using ProfileUpdate.Api.Configuration;
using StackExchange.Redis;

namespace ProfileUpdate.Api.Store;

/// <summary>
/// The one connection to the profile store: the configured Redis (standalone or cluster), or the embedded Garnet when
/// none is configured. Connecting never blocks start-up: a store that is down makes requests answer 503 until it is back,
/// and the multiplexer reconnects by itself.
/// </summary>
public sealed partial class RedisStore : IDisposable
{
    private readonly EmbeddedStore? _embedded;
    private readonly ILogger<RedisStore> _logger;
    private bool? _isCluster;
    // Stopwatch timestamp of the moment the interactive connection was reported lost, 0 while connected. Real time on purpose,
    // like the client's own timeouts: it bounds a wait on a real socket (tests' fake clocks drive quota windows only).
    private long _lostAt;

    public RedisStore(IConfiguration configuration, IOptions<ProfileUpdateOptions> options, ILoggerFactory loggerFactory)
    {
        var logger = _logger = loggerFactory.CreateLogger<RedisStore>();
        var connectionString = configuration.GetConnectionString("Redis");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            _embedded = new EmbeddedStore(options.Value.Embedded, new PrefixedLoggerFactory(loggerFactory, "Garnet."));
            connectionString = _embedded.ConnectionString;
            Description = $"embedded Garnet on {connectionString} (in memory; set ConnectionStrings:Redis for durable storage)";
        }
        else
        {
            Description = "Redis from ConnectionStrings:Redis";
        }

        var config = ConfigurationOptions.Parse(connectionString);
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

        Multiplexer = ConnectionMultiplexer.Connect(config);
        if (!Multiplexer.IsConnected) _lostAt = Stopwatch.GetTimestamp();
        Multiplexer.ConnectionFailed += OnConnectionFailed;
        Multiplexer.ConnectionRestored += OnConnectionRestored;
        logger.LogInformation("Profile store: {Store}; connected: {Connected}", Description, Multiplexer.IsConnected);
    }

    /// <summary>
    /// Waits, if the connection is down, until it is back — but never past <paramref name="grace"/> after it was lost.
    /// The client drops and re-opens a connection that has answered nothing for a while (e.g. while Redis pauses writes),
    /// and re-opening takes up to a heartbeat or two: a batch that fails fast in that gap would answer 503 to updates
    /// that a moment later would have been stored. Past the grace (a real outage) it returns at once, so 503s stay fast.
    /// </summary>
    /// <returns>Whether the connection is up.</returns>
    public async ValueTask<bool> WaitForConnectionAsync(TimeSpan grace)
    {
        if (Multiplexer.IsConnected) return true;
        // The client raises no ConnectionFailed when it drops a connection it judged dead (only ConnectionRestored when
        // the new one is up): without the event's time, the grace counts from now. Failed reconnects do raise it.
        var lostAt = Volatile.Read(ref _lostAt);
        if (lostAt == 0) lostAt = Stopwatch.GetTimestamp();
        while (!Multiplexer.IsConnected)
        {
            if (Stopwatch.GetElapsedTime(lostAt) >= grace) return false;
            await Task.Delay(10);
        }
        return true;
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType != ConnectionType.Interactive) return;
        Interlocked.CompareExchange(ref _lostAt, Stopwatch.GetTimestamp(), 0);
        // The failure type only: exception texts can name keys, i.e. visitor ids.
        LogConnectionLost(_logger, e.EndPoint?.ToString(), e.FailureType);
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        if (e.ConnectionType != ConnectionType.Interactive) return;
        var lostAt = Interlocked.Exchange(ref _lostAt, 0);
        // No time when the old connection was dropped silently (see WaitForConnectionAsync).
        LogConnectionRestored(_logger, e.EndPoint?.ToString(), lostAt == 0 ? null : (long)Stopwatch.GetElapsedTime(lostAt).TotalMilliseconds);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Profile store connection to {EndPoint} lost ({FailureType}); reconnecting")]
    private static partial void LogConnectionLost(ILogger logger, string? endPoint, ConnectionFailureType failureType);

    [LoggerMessage(Level = LogLevel.Information, Message = "Profile store connection to {EndPoint} restored (down {DownMilliseconds} ms)")]
    private static partial void LogConnectionRestored(ILogger logger, string? endPoint, long? downMilliseconds);

    public IConnectionMultiplexer Multiplexer { get; }

    public IDatabase Database => Multiplexer.GetDatabase();

    public string Description { get; }

    public bool IsEmbedded => _embedded is not null;

    /// <summary>True when connected to a Redis Cluster: writes are then grouped per hash slot.</summary>
    public bool IsCluster
    {
        get
        {
            if (_isCluster is { } known) return known;
            var servers = Multiplexer.GetServers();
            var connected = servers.Where(s => s.IsConnected).ToArray();
            if (connected.Length == 0) return false; // unknown yet: decide once a server answers
            var cluster = connected.Any(s => s.ServerType == ServerType.Cluster);
            _isCluster = cluster;
            return cluster;
        }
    }

    public int HashSlot(RedisKey key) => Multiplexer.HashSlot(key);

    public void Dispose()
    {
        Multiplexer.ConnectionFailed -= OnConnectionFailed;
        Multiplexer.ConnectionRestored -= OnConnectionRestored;
        Multiplexer.Dispose();
        _embedded?.Dispose();
    }
}
