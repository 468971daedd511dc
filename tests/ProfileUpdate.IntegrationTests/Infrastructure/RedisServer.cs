using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ProfileUpdate.IntegrationTests.Infrastructure;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port, in memory only. Tests that need one skip with a visible reason
/// where the binary is absent (CI installs it, so there they always run).
/// </summary>
public sealed class RedisServer : IDisposable
{
    private readonly string? _dataDirectory;
    private Process? _process;

    /// <param name="persistent">Keep data across <see cref="Stop"/>/<see cref="Start"/> (AOF, fsync always), as production Redis should.</param>
    public RedisServer(bool persistent = false)
    {
        Port = FreePort();
        if (persistent)
        {
            _dataDirectory = Path.Combine(Path.GetTempPath(), "pu-redis-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(_dataDirectory);
        }
        if (Executable is not null) Start();
    }

    public static string? Executable { get; } = FindExecutable();

    public static string SkipReason => "redis-server is not installed (apt-get install -y redis-server); real-Redis tests skipped.";

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public static bool IsAvailable => Executable is not null;

    public void Start()
    {
        if (Executable is null) throw new InvalidOperationException(SkipReason);
        var info = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] persistence = _dataDirectory is null
            ? ["--save", "", "--appendonly", "no"]
            : ["--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", _dataDirectory];
        foreach (var arg in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                     "--daemonize", "no", "--protected-mode", "no" }.Concat(persistence))
            info.ArgumentList.Add(arg);
        _process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        WaitUntil(accepting: true);
    }

    /// <summary>Kills the server (as an outage would) and waits until its port is closed.</summary>
    public void Stop()
    {
        if (_process is null) return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
        _process = null;
        WaitUntil(accepting: false);
    }

    public void Dispose()
    {
        Stop();
        if (_dataDirectory is not null && Directory.Exists(_dataDirectory)) Directory.Delete(_dataDirectory, recursive: true);
    }

    private void WaitUntil(bool accepting)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (IsAccepting() == accepting) return;
            Thread.Sleep(25);
        }
        throw new TimeoutException($"redis-server on port {Port} did not become {(accepting ? "ready" : "stopped")}.");
    }

    private bool IsAccepting()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindExecutable()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
                     .Concat(["/usr/bin", "/usr/local/bin", "/usr/sbin"]))
        {
            var candidate = Path.Combine(dir, "redis-server");
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
