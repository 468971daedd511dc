using System.Diagnostics;

namespace ProfileUpdate.IntegrationTests.Infrastructure;

/// <summary>
/// A real 3-master Redis Cluster on loopback: three <c>redis-server --cluster-enabled yes</c> joined with
/// <c>redis-cli --cluster create</c>. Skips (visibly) where redis-server or redis-cli is absent.
/// </summary>
public sealed class RedisCluster : IDisposable
{
    /// <summary>Generous: the nodes agree on their slots within a second or two even on a busy machine.</summary>
    private static readonly TimeSpan ClusterOkDeadline = TimeSpan.FromSeconds(60);

    private readonly List<RedisServer> _nodes = [];

    public RedisCluster()
    {
        if (!IsAvailable) return;
        try
        {
            for (var i = 0; i < 3; i++) _nodes.Add(new RedisServer(clusterNode: true));
            var (exitCode, output) = RunCli(["--cluster", "create", .. _nodes.Select(n => n.ConnectionString), "--cluster-replicas", "0", "--cluster-yes"]);
            if (exitCode != 0) throw new InvalidOperationException($"redis-cli --cluster create failed:\n{output}");
            // Every node, not only the first: a node that has not yet learned the slot map answers CLUSTERDOWN for the
            // slots it does not know, and a service started then answers 503 for writes that land there (seen in runs).
            Eventually.WaitUntil(
                () => Ports.All(port => RunCli(["-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "cluster", "info"]).Output
                          .Contains("cluster_state:ok", StringComparison.Ordinal))
                      && RunCli(["--cluster", "check", _nodes[0].ConnectionString]).Output is var check
                      && check.Contains("All nodes agree about slots configuration", StringComparison.Ordinal)
                      && check.Contains("All 16384 slots covered", StringComparison.Ordinal),
                ClusterOkDeadline, "every node of the Redis Cluster to reach cluster_state:ok and agree on the slots", poll: TimeSpan.FromMilliseconds(200));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public static string? RedisCli { get; } = RedisServer.FindExecutable("redis-cli");

    public static bool IsAvailable => RedisServer.IsAvailable && RedisCli is not null;

    public static string SkipReason => "redis-server/redis-cli are not installed (apt-get install -y redis-server); Redis Cluster tests skipped.";

    public int[] Ports => [.. _nodes.Select(n => n.Port)];

    public string ConnectionString => string.Join(',', _nodes.Select(n => n.ConnectionString));

    /// <summary>
    /// Has node i tell clients (CLUSTER NODES, CLUSTER SLOTS, MOVED) that it listens on <paramref name="ports"/>[i] —
    /// e.g. a proxy in front of it — and waits until every node names every node so; the cluster bus keeps the real ports.
    /// </summary>
    public void Announce(IReadOnlyList<int> ports)
    {
        for (var i = 0; i < _nodes.Count; i++)
        {
            var (exitCode, output) = RunCli(["-p", Port(i), "config", "set", "cluster-announce-port", ports[i].ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            if (exitCode != 0) throw new InvalidOperationException($"redis-cli config set cluster-announce-port failed:\n{output}");
        }
        Eventually.WaitUntil(
            () => Enumerable.Range(0, _nodes.Count).All(i => RunCli(["-p", Port(i), "cluster", "nodes"]).Output is var nodes
                      && ports.All(p => nodes.Contains($"127.0.0.1:{p}@", StringComparison.Ordinal))),
            ClusterOkDeadline, "every node of the Redis Cluster to announce the given ports", poll: TimeSpan.FromMilliseconds(200));

        string Port(int i) => _nodes[i].Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        foreach (var node in _nodes) node.Dispose();
        _nodes.Clear();
    }

    private static (int ExitCode, string Output) RunCli(IEnumerable<string> arguments)
    {
        var info = new ProcessStartInfo(RedisCli!) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in arguments) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd() + error.GetAwaiter().GetResult();
        process.WaitForExit();
        return (process.ExitCode, output);
    }
}

/// <summary>The service on a 3-master Redis Cluster.</summary>
public sealed class ClusterServiceFixture : IServiceFixture, IDisposable
{
    private readonly RedisCluster _cluster = new();
    private readonly ServiceFactory? _factory;

    public ClusterServiceFixture()
    {
        if (!RedisCluster.IsAvailable) return;
        _factory = new ServiceFactory(_cluster.ConnectionString);
        Client = _factory.CreateHttpClient();
    }

    public string StoreName => "redis-cluster";

    public string? SkipReason => RedisCluster.IsAvailable ? null : RedisCluster.SkipReason;

    public HttpClient Client { get; } = null!;

    public RedisCluster Cluster => _cluster;

    public void Dispose()
    {
        Client?.Dispose();
        _factory?.Dispose();
        _cluster.Dispose();
    }
}
