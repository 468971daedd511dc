using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ProfileUpdate.IntegrationTests.Infrastructure;

/// <summary>
/// A real 3-master Redis Cluster on loopback: three <c>redis-server --cluster-enabled yes</c> joined with
/// <c>redis-cli --cluster create</c>. Skips (visibly) where redis-server or redis-cli is absent.
/// </summary>
public sealed class RedisCluster : IDisposable
{
    private readonly List<Process> _nodes = [];
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "pu-cluster-" + Guid.NewGuid().ToString("N"));

    public RedisCluster()
    {
        if (!IsAvailable) return;
        Directory.CreateDirectory(_directory);
        Ports = FreePorts(3);
        foreach (var port in Ports)
        {
            var info = new ProcessStartInfo(RedisServer.Executable!) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = _directory };
            foreach (var arg in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                         "--cluster-enabled", "yes", "--cluster-config-file", $"nodes-{port}.conf", "--save", "", "--appendonly", "no",
                         "--daemonize", "no", "--protected-mode", "no", "--dir", _directory })
                info.ArgumentList.Add(arg);
            var node = Process.Start(info)!;
            node.OutputDataReceived += (_, _) => { };
            node.ErrorDataReceived += (_, _) => { };
            node.BeginOutputReadLine();
            node.BeginErrorReadLine();
            _nodes.Add(node);
        }
        foreach (var port in Ports) WaitForPort(port);

        var create = new ProcessStartInfo(RedisCli!) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--cluster", "create" }.Concat(Ports.Select(p => $"127.0.0.1:{p}")).Concat(["--cluster-replicas", "0", "--cluster-yes"]))
            create.ArgumentList.Add(arg);
        using (var process = Process.Start(create)!)
        {
            var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0) throw new InvalidOperationException($"redis-cli --cluster create failed:\n{output}");
        }
        WaitForClusterOk();
    }

    public static string? RedisCli { get; } = RedisServer.Executable is { } server && File.Exists(Path.Combine(Path.GetDirectoryName(server)!, "redis-cli"))
        ? Path.Combine(Path.GetDirectoryName(server)!, "redis-cli") : null;

    public static bool IsAvailable => RedisServer.Executable is not null && RedisCli is not null;

    public static string SkipReason => "redis-server/redis-cli are not installed (apt-get install -y redis-server); Redis Cluster tests skipped.";

    public int[] Ports { get; } = [];

    public string ConnectionString => string.Join(',', Ports.Select(p => $"127.0.0.1:{p}"));

    public void Dispose()
    {
        foreach (var node in _nodes)
        {
            if (!node.HasExited) node.Kill(entireProcessTree: true);
            node.WaitForExit();
            node.Dispose();
        }
        if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private void WaitForClusterOk()
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(30))
        {
            var info = new ProcessStartInfo(RedisCli!) { UseShellExecute = false, RedirectStandardOutput = true };
            foreach (var arg in new[] { "-p", Ports[0].ToString(System.Globalization.CultureInfo.InvariantCulture), "cluster", "info" }) info.ArgumentList.Add(arg);
            using var process = Process.Start(info)!;
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            if (output.Contains("cluster_state:ok", StringComparison.Ordinal)) return;
            Thread.Sleep(200);
        }
        throw new TimeoutException("The Redis Cluster did not reach cluster_state:ok.");
    }

    private static void WaitForPort(int port)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(10))
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                Thread.Sleep(25);
            }
        }
        throw new TimeoutException($"redis-server on {port} did not start.");
    }

    /// <summary>Free ports whose cluster bus port (+10000) is free too.</summary>
    private static int[] FreePorts(int count)
    {
        var ports = new List<int>();
        while (ports.Count < count)
        {
            var port = Random.Shared.Next(20000, 29000);
            if (!ports.Contains(port) && IsFree(port) && IsFree(port + 10000)) ports.Add(port);
        }
        return [.. ports];
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
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
