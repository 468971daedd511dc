using System.Collections.Concurrent;
using System.Diagnostics;

namespace ProfileUpdate.IntegrationTests.Infrastructure;

/// <summary>A command started for a test, its output kept, and it and every process it started ended on dispose.</summary>
public sealed class ProcessRunner : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ProcessRunner(Process process)
    {
        _process = process;
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _output.Enqueue(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process printed so far.</summary>
    public string Output => string.Join('\n', _output);

    public static ProcessRunner Start(string fileName, IEnumerable<string> arguments, string workingDirectory)
    {
        var info = new ProcessStartInfo(fileName)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        return new ProcessRunner(Process.Start(info) ?? throw new InvalidOperationException($"{fileName} did not start."));
    }

    public void Dispose()
    {
        // `dotnet run` starts the app as a child process: the whole tree goes.
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
    }
}
