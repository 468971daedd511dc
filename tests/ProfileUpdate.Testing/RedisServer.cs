using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ProfileUpdate.Testing;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port, started for one test class, benchmark run or cluster node and
/// killed afterwards. Where the binary is absent nothing starts: tests skip with <see cref="SkipReason"/> (CI installs it,
/// so there they always run).
/// </summary>
public sealed class RedisServer : IDisposable
{
    /// <summary>Generous: a cold start on a busy 2-core machine takes a few hundred ms, a broken one never answers.</summary>
    private static readonly TimeSpan StartStopDeadline = TimeSpan.FromSeconds(30);

    private readonly string? _directory;
    private readonly bool _persistent;
    private readonly bool _clusterNode;
    private readonly StringBuilder _output = new();
    private Process? _process;

    /// <param name="persistent">Keep data across <see cref="Stop"/>/<see cref="Start"/> (AOF, fsync always), as production Redis should.</param>
    /// <param name="clusterNode">Start with cluster mode on, for <c>redis-cli --cluster create</c> to join; its cluster bus port (+10000) is free too.</param>
    /// <param name="unixSocket">Also listen on a Unix socket in its own folder (<see cref="UnixSocketConnectionString"/>).</param>
    public RedisServer(bool persistent = false, bool clusterNode = false, bool unixSocket = false)
    {
        _persistent = persistent;
        _clusterNode = clusterNode;
        Port = NewPort();
        if (persistent || clusterNode || unixSocket)
        {
            _directory = Path.Combine(Path.GetTempPath(), "pu-redis-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(_directory);
        }
        if (unixSocket) UnixSocketPath = Path.Combine(_directory!, "redis.sock");
        if (!IsAvailable) return;
        // A port drawn free can still be bound by another test's server before this one binds it: a new port then.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Start();
                return;
            }
            catch (InvalidOperationException) when (attempt < 5 && TestPorts.IsAddressInUse(Output))
            {
                lock (_output) _output.Clear();
                Port = NewPort();
            }
        }
    }

    // A cluster node also listens on its port + 10000 (the cluster bus), so both must be free.
    private int NewPort() => TestPorts.Free(_clusterNode ? 10000 : null);

    public static string? Executable { get; } = FindExecutable("redis-server");

    public static bool IsAvailable => Executable is not null;

    public const string NotInstalled = "redis-server is not installed (Debian/Ubuntu: apt-get install -y redis-server)";

    public static string SkipReason => NotInstalled + "; real-Redis tests skipped.";

    public int Port { get; private set; }

    public string ConnectionString => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>The Unix socket it also listens on, when started with one.</summary>
    public string? UnixSocketPath { get; }

    /// <summary>StackExchange.Redis's form for a Unix socket endpoint: the path after a '!'.</summary>
    public string UnixSocketConnectionString =>
        "!" + (UnixSocketPath ?? throw new InvalidOperationException("This server was started without a Unix socket."));

    /// <summary>Everything the server printed so far (kept for error messages; a benchmark's own stdout must stay clean).</summary>
    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    /// <summary>Starts the server (again, after <see cref="Stop"/>) and returns once it answers PING.</summary>
    public void Start()
    {
        if (Executable is null) throw new InvalidOperationException(SkipReason);
        var info = new ProcessStartInfo(Executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in Arguments()) info.ArgumentList.Add(arg);
        var process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start.");
        process.OutputDataReceived += Collect;
        process.ErrorDataReceived += Collect;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        try
        {
            Eventually.WaitUntil(() => process.HasExited || AnswersPing(), StartStopDeadline, $"redis-server on port {Port} to answer PING");
            if (process.HasExited)
            {
                process.WaitForExit(); // the rest of its output is read before it is quoted
                process.Dispose();
                _process = null;
                throw new InvalidOperationException($"redis-server on port {Port} exited at start:\n{Output}");
            }
        }
        catch (TimeoutException ex)
        {
            Stop();
            throw new TimeoutException($"{ex.Message}. Its output:\n{Output}", ex);
        }
    }

    /// <summary>Kills the server (as an outage would: no shutdown, no save) and returns once its port is closed.</summary>
    public void Stop()
    {
        if (_process is null) return;
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
        _process = null;
        Eventually.WaitUntil(() => !IsAccepting(), StartStopDeadline, $"redis-server on port {Port} to close its port");
    }

    /// <summary>
    /// Freezes the server's process (SIGSTOP) with its connections left open: a store that stalls (a long fork, a paused
    /// VM) rather than one that goes away. Commands sent meanwhile wait for <see cref="Resume"/>, or their timeout.
    /// </summary>
    public void Pause() => Signal("-STOP");

    /// <summary>Lets a <see cref="Pause"/>d server run again (SIGCONT).</summary>
    public void Resume() => Signal("-CONT");

    private void Signal(string signal)
    {
        var pid = _process?.Id ?? throw new InvalidOperationException("redis-server is not running.");
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { signal, pid.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false })
            ?? throw new InvalidOperationException("kill did not start.");
        kill.WaitForExit();
        if (kill.ExitCode != 0) throw new InvalidOperationException($"kill {signal} {pid} exited with {kill.ExitCode}.");
    }

    public void Dispose()
    {
        Stop();
        if (_directory is not null && Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
    }

    private IEnumerable<string> Arguments()
    {
        string[] common = ["--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--daemonize", "no", "--protected-mode", "no", "--save", ""];
        string[] persistence = _persistent
            ? ["--appendonly", "yes", "--appendfsync", "always"]
            : ["--appendonly", "no"];
        string[] directory = _directory is null ? [] : ["--dir", _directory];
        string[] cluster = _clusterNode ? ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"] : [];
        string[] socket = UnixSocketPath is null ? [] : ["--unixsocket", UnixSocketPath, "--unixsocketperm", "700"];
        return common.Concat(persistence).Concat(directory).Concat(cluster).Concat(socket);
    }

    private void Collect(object sender, DataReceivedEventArgs e)
    {
        if (e.Data is null) return;
        lock (_output) _output.AppendLine(e.Data);
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

    /// <summary>
    /// An open port is not yet a server that answers: Redis may still be loading its AOF, which it reports as an error
    /// to PING rather than +PONG.
    /// </summary>
    private bool AnswersPing()
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, Port);
            using var stream = client.GetStream();
            stream.ReadTimeout = 1000;
            stream.Write("PING\r\n"u8);
            var reply = new byte[7];
            var read = stream.Read(reply);
            return reply.AsSpan(0, read).SequenceEqual("+PONG\r\n"u8);
        }
        catch (Exception ex) when (ex is SocketException or IOException)
        {
            return false;
        }
    }

    /// <summary>The named Redis tool on PATH or in the usual install folders (PATH may be minimal under a test runner).</summary>
    public static string? FindExecutable(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/bin", "/usr/local/bin", "/usr/sbin"])
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}
