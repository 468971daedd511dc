using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace ProfileUpdate.IntegrationTests.Infrastructure;

/// <summary>
/// The built service as a real OS process (<c>dotnet ProfileUpdate.Api.dll</c>), for what an in-memory host cannot show:
/// SIGKILL, SIGTERM, resident memory, and everything the process writes to stdout/stderr.
/// </summary>
public sealed class ServiceProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ServiceProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public Uri BaseAddress { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Everything the process printed so far.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>
    /// The output once it contains <paramref name="text"/> (logs go through an async sink), or as it is after a generous
    /// deadline: the caller's assertion on it then says what is missing.
    /// </summary>
    public async Task<string> OutputOnceContainsAsync(string text)
    {
        await Eventually.TryWaitUntilAsync(() => Task.FromResult(Output.Contains(text, StringComparison.Ordinal)), TimeSpan.FromSeconds(30));
        return Output;
    }

    /// <summary>The API assembly built next to this test assembly's configuration (Debug/Release).</summary>
    public static string ApiAssembly
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // …/bin/<Configuration>/net10.0/
            return Path.Combine(RepositoryRoot.Path, "src", "ProfileUpdate.Api", "bin", configuration, "net10.0", "ProfileUpdate.Api.dll");
        }
    }

    public static async Task<ServiceProcess> StartAsync(string redisConnectionString, IReadOnlyDictionary<string, string>? environment = null)
    {
        // A port drawn free can still be bound by another test's server before this one binds it: a new port then.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnAsync(TestPorts.Free(), redisConnectionString, environment);
            }
            catch (PortTakenException) when (attempt < 5)
            {
            }
        }
    }

    internal sealed class PortTakenException(string message) : Exception(message);

    internal static async Task<ServiceProcess> StartOnAsync(int port, string redisConnectionString, IReadOnlyDictionary<string, string>? environment)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(ApiAssembly);
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add($"http://127.0.0.1:{port}");
        info.Environment["ConnectionStrings__Redis"] = redisConnectionString;
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["DOTNET_gcServer"] = "0"; // several of these run beside the test host on 2 cores
        // A fresh spool unless the caller names one (a restart that must resume the batches of the process before it).
        info.Environment["ProfileUpdate__Bulk__SpoolDirectory"] = Path.Combine(Path.GetTempPath(), "pu-spool-" + Guid.NewGuid().ToString("N"));
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) info.Environment[key] = value;

        var process = Process.Start(info) ?? throw new InvalidOperationException("dotnet did not start.");
        var service = new ServiceProcess(process, new Uri($"http://127.0.0.1:{port}"));
        using var http = new HttpClient { BaseAddress = service.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(30))
        {
            if (process.HasExited)
            {
                process.WaitForExit(); // the rest of its output is read before it is quoted
                var output = service.Output;
                service.Dispose();
                if (TestPorts.IsAddressInUse(output)) throw new PortTakenException($"Port {port} was taken:\n{output}");
                throw new InvalidOperationException($"The service exited at start:\n{output}");
            }
            try
            {
                using var ready = await http.GetAsync("/health/ready");
                if (ready.StatusCode == HttpStatusCode.OK) return service;
            }
            catch (HttpRequestException)
            {
                // not listening yet
            }
            catch (TaskCanceledException)
            {
                // not answering yet
            }
            await Task.Delay(100);
        }
        service.Dispose();
        throw new TimeoutException($"The service did not become ready:\n{service.Output}");
    }

    /// <summary>SIGKILL: the process gets no chance to finish anything.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    /// <summary>SIGTERM, as an orchestrator stops a container; returns whether it exited within the timeout.</summary>
    public bool Terminate(TimeSpan timeout)
    {
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            kill.WaitForExit();
        return _process.WaitForExit(timeout);
    }

    /// <summary>Resident set size now, from /proc.</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
        }
        return 0;
    }

    public void Dispose()
    {
        if (!_process.HasExited) Kill();
        _process.Dispose();
    }
}
