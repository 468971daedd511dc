using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// The runtime settings the service ships with (<c>DOTNET_…</c> environment variables: the runtime reads its GC budget
/// from nowhere else) are the same in every launcher — the Docker image, <c>dotnet run</c>'s launch profile, the
/// benchmark scripts — and in README's configuration table; and a started service reports the budget in force, naming
/// the variable when it is missing.
/// </summary>
public sealed partial class RuntimeSettingsTests
{
    [Fact]
    public void The_docker_image_dotnet_run_the_benchmarks_and_readme_agree_on_the_runtime_settings()
    {
        var image = DockerfileSettings();
        Assert.Equal("0x2000000", image.GetValueOrDefault("DOTNET_GCgen0size")); // the walk found the one that matters

        Assert.Equal(image, LaunchProfileSettings());
        Assert.Equal(image, BenchmarkSettings());
        var readme = File.ReadAllText(Path.Combine(RepositoryRoot.Path, "README.md"));
        foreach (var (name, value) in image)
            Assert.Matches(new Regex($@"^\| `{Regex.Escape(name)}` \| `{Regex.Escape(value)}`", RegexOptions.Multiline), readme);
    }

    [Fact]
    public async Task The_service_reports_the_budget_in_force_at_start()
    {
        // The embedded store (no connection string): only the start-up log is looked at.
        using (var shipped = await ServiceProcess.StartAsync("", DockerfileSettings()))
        {
            var output = await shipped.OutputOnceContainsAsync("first-generation budget");
            Assert.Contains("Runtime: workstation GC (concurrent), first-generation budget up to 32 MB\"", output);
        }
        using (var bare = await ServiceProcess.StartAsync("", new Dictionary<string, string> { ["DOTNET_GCgen0size"] = "" }))
        {
            var output = await bare.OutputOnceContainsAsync("first-generation budget");
            Assert.Contains("the runtime's default: DOTNET_GCgen0size is not set", output);
        }
    }

    /// <summary>The Docker image's <c>ENV DOTNET_…=…</c> lines.</summary>
    private static Dictionary<string, string> DockerfileSettings() =>
        EnvLine().Matches(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "Dockerfile")))
            .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value, StringComparer.Ordinal);

    /// <summary>The <c>DOTNET_…</c> variables of every profile in the API's launchSettings.json (profiles disagreeing fail).</summary>
    private static Dictionary<string, string> LaunchProfileSettings()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryRoot.Path, "src", "ProfileUpdate.Api", "Properties", "launchSettings.json")));
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var profile in json.RootElement.GetProperty("profiles").EnumerateObject())
        {
            foreach (var variable in profile.Value.GetProperty("environmentVariables").EnumerateObject().Where(v => v.Name.StartsWith("DOTNET_", StringComparison.Ordinal)))
            {
                var value = variable.Value.GetString()!;
                if (!settings.TryAdd(variable.Name, value)) Assert.Equal(settings[variable.Name], value);
            }
        }
        return settings;
    }

    /// <summary>What the benchmark scripts give a service they start: lib.sh's <c>runtime_env</c>, run by bash.</summary>
    private static Dictionary<string, string> BenchmarkSettings()
    {
        var info = new ProcessStartInfo("bash", ["-c", "source tests/ProfileUpdate.Benchmarks/lib.sh && runtime_env"])
        {
            WorkingDirectory = RepositoryRoot.Path,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        using var bash = Process.Start(info)!;
        var output = bash.StandardOutput.ReadToEnd();
        bash.WaitForExit();
        Assert.Equal(0, bash.ExitCode);
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
    }

    [GeneratedRegex(@"^ENV (DOTNET_\w+)=(\S+)$", RegexOptions.Multiline)]
    private static partial Regex EnvLine();
}
