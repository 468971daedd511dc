using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ProfileUpdate.Benchmarks.Micro;

/// <summary>
/// A throw-away <c>redis-server</c> on a free loopback port, without persistence: the store benchmarks measure the
/// service's own round trips against real Redis, not disk writes, and leave nothing behind.
/// </summary>
internal sealed class RedisServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private RedisServerProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>Starts the server and returns once it answers PING.</summary>
    public static RedisServerProcess Start()
    {
        var executable = FindOnPath("redis-server") ?? throw new InvalidOperationException(
            "redis-server is not on PATH. StoreBenchmarks run against a real Redis; install it (Debian/Ubuntu: " +
            "apt-get install -y redis-server) or leave them out with --filter '*Parsing*' '*BulkRow*'.");
        var port = FreePort();
        var start = new ProcessStartInfo(executable)
        {
            // Its log is kept for the error message only: BenchmarkDotNet reads this process's stdout.
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no" })
            start.ArgumentList.Add(arg);

        var process = Process.Start(start) ?? throw new InvalidOperationException("redis-server did not start.");
        var server = new RedisServerProcess(process, port);
        process.OutputDataReceived += server.Collect;
        process.ErrorDataReceived += server.Collect;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            server.WaitForPing(TimeSpan.FromSeconds(10));
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void Collect(object sender, DataReceivedEventArgs e)
    {
        if (e.Data is null) return;
        lock (_output) _output.AppendLine(e.Data);
    }

    private void WaitForPing(TimeSpan timeout)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited) break;
            if (Pings()) return;
            Thread.Sleep(50);
        }
        string log;
        lock (_output) log = _output.ToString();
        throw new InvalidOperationException($"redis-server on port {Port} did not answer PING within {timeout.TotalSeconds:0} s. Its output:\n{log}");
    }

    private bool Pings()
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
        catch (SocketException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>A port the OS just handed out; the short race until redis-server binds it is acceptable for a benchmark.</summary>
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
}
