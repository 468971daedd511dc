using System.Diagnostics;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// A service process that cannot start because of its configuration says why in one line naming the setting, and exits
/// with code 1 — no unhandled exception, no stack trace, no SIGABRT (exit code 134).
/// </summary>
public sealed class StartupFailureTests
{
    [Theory]
    [InlineData("ProfileUpdate__Quota__Limit", "0",
        "The service cannot start: The setting ProfileUpdate:Quota:Limit (environment: ProfileUpdate__Quota__Limit) must be at least 1.")]
    [InlineData("ProfileUpdate__Quotaa__Limit", "5",
        "The service cannot start: ProfileUpdate has no setting 'Quotaa' (misspelled? README lists every setting).")]
    [InlineData("ProfileUpdate__Clients__acme__Tokenz", "x",
        "The service cannot start: ProfileUpdate:Clients:<client> has no setting 'Tokenz' (misspelled? README lists every setting).")]
    [InlineData("ProfileUpdate__Quota__Enabled", "maybe",
        "The service cannot start: Failed to convert configuration value 'maybe' at 'ProfileUpdate:Quota:Enabled' to type 'System.Boolean'.")]
    [InlineData("ProfileUpdate__Bulk__StatusRetention", "00:00:10",
        "The service cannot start: The setting ProfileUpdate:Bulk:StatusRetention (environment: ProfileUpdate__Bulk__StatusRetention) must be between 00:01:00 and 365.00:00:00.")]
    [InlineData("ConnectionStrings__Redis", "garbage=1",
        "The service cannot start: ConnectionStrings:Redis (environment: ConnectionStrings__Redis) is not a valid Redis connection string: Keyword 'garbage' is not supported.")]
    public async Task A_bad_setting_stops_the_process_with_exit_code_1_and_one_line_naming_it(string key, string value, string expected)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(ServiceProcess.ApiAssembly);
        info.ArgumentList.Add("--urls");
        info.ArgumentList.Add($"http://127.0.0.1:{TestPorts.Free()}");
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        info.Environment["ConnectionStrings__Redis"] = "127.0.0.1:1"; // never reached: the setting stops it first
        info.Environment["ProfileUpdate__Bulk__SpoolDirectory"] = Path.Combine(Path.GetTempPath(), "pu-spool-" + Guid.NewGuid().ToString("N"));
        info.Environment[key] = value;
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        var errors = await stderr;
        Assert.True(process.ExitCode == 1, $"exit code {process.ExitCode}; stderr:\n{errors}\nstdout:\n{await stdout}");
        Assert.StartsWith(expected, errors, StringComparison.Ordinal);
        Assert.Single(errors.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("Unhandled exception", errors, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", errors, StringComparison.Ordinal);
    }
}
