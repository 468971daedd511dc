using System.Globalization;

namespace ProfileUpdate.Api.Operations;

/// <summary>
/// Says at start-up which garbage-collector settings the process runs with. The first generation's budget matters to
/// single updates: every collection costs about the same however little survives, so a small budget means many of them
/// (docs/performance.md, "The GC's first-generation budget"). The runtime takes that budget from the environment only
/// (<see cref="Gen0Variable"/>), which the Docker image and <c>dotnet run</c>'s launch profile set; a process started
/// any other way without it says so here, where whoever deployed it looks.
/// </summary>
internal sealed partial class RuntimeReport(ILogger<RuntimeReport> logger) : IHostedService
{
    /// <summary>The environment variable the shipped launchers set (README, Configuration).</summary>
    public const string Gen0Variable = "DOTNET_GCgen0size";

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var gc = GC.GetConfigurationVariables();
        var kind = gc.TryGetValue("ServerGC", out var server) && server is true ? "server" : "workstation";
        var mode = gc.TryGetValue("ConcurrentGC", out var concurrent) && concurrent is true ? "concurrent" : "non-concurrent";
        var budget = gc.TryGetValue("GCGen0MaxBudget", out var value) ? Convert.ToDouble(value, CultureInfo.InvariantCulture) : 0;
        var megabytes = Math.Round(budget / (1024 * 1024), 1);
        // The legacy prefix counts too: the runtime reads either.
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Gen0Variable))
            && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("COMPlus_GCgen0size")))
            LogDefaultBudget(logger, kind, mode, megabytes);
        else
            LogRuntime(logger, kind, mode, megabytes);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "Runtime: {Kind:l} GC ({Mode:l}), first-generation budget up to {Megabytes} MB")]
    private static partial void LogRuntime(ILogger logger, string kind, string mode, double megabytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Runtime: {Kind:l} GC ({Mode:l}), first-generation budget up to {Megabytes} MB, " +
        "the runtime's default: DOTNET_GCgen0size is not set, so collections come every few MB allocated and single updates cost " +
        "more CPU. The Docker image and dotnet run set it (README, Configuration).")]
    private static partial void LogDefaultBudget(ILogger logger, string kind, string mode, double megabytes);
}
