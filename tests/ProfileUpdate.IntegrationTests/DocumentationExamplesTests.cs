using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// Every curl line of README.md and docs/api.md, run verbatim against the service started the way README says
/// (<c>dotnet run --project src/ProfileUpdate.Api</c>: embedded store, http://localhost:5000), in document order, one
/// fresh service per document. A command succeeds when bash runs it with exit code 0 and its (last) HTTP answer has the
/// status the document gives in the comment line right after it (<c># 404 …</c>, <c># HTTP/1.1 200 OK …</c>), or a 2xx
/// when it gives none; where that comment shows a batch's <c>&lt;status&gt;</c>, the answer has the same one (a status read
/// right after a POST is only <c>complete</c> when the POST waited for it). The lines of a ```bash block that start with <c>curl</c> or <c>printf</c> (the files curl sends)
/// are run; other commands in those blocks (builds, docker, benchmarks) are not examples of the API.
/// </summary>
public sealed partial class DocumentationExamplesTests
{
    private const string ServiceUrl = "http://localhost:5000";

    [Theory]
    [InlineData("README.md")]
    [InlineData("docs/api.md")]
    public async Task Every_curl_example_works_verbatim_against_the_service_the_readme_starts(string document)
    {
        var root = RepositoryRoot.Path;
        var examples = Examples(await File.ReadAllTextAsync(Path.Combine(root, document)));
        Assert.True(examples.Count(e => e.Command.StartsWith("curl", StringComparison.Ordinal)) >= 5, $"{document} has too few curl examples to be its own reference.");

        using var service = await StartServiceAsync(root);
        var work = Directory.CreateTempSubdirectory("pu-doc-examples-");
        try
        {
            // curl reads $CURL_HOME/.curlrc: every curl of an example reports its status on stderr, whatever the
            // command does with stdout (pipes, command substitution), so the commands stay exactly as documented.
            await File.WriteAllTextAsync(Path.Combine(work.FullName, ".curlrc"), "write-out = \"%{stderr}__STATUS__%{http_code}\\n\"\n");
            var failures = new List<string>();
            foreach (var example in examples)
            {
                var (exit, stdout, stderr) = await RunAsync(example.Command, work.FullName);
                var statuses = StatusMarker().Matches(stderr).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
                var problem = exit != 0 ? $"exit code {exit}"
                    : example.Command.StartsWith("curl", StringComparison.Ordinal) && statuses.Count == 0 ? "no HTTP answer"
                    : statuses.Count == 0 ? null
                    : example.ExpectedStatus is { } expected && statuses[^1] != expected ? $"status {statuses[^1]}, documented {expected}"
                    : example.ExpectedStatus is null && statuses[^1] is < 200 or >= 300 ? $"status {statuses[^1]}, documented as succeeding"
                    : example.BatchStatus is { } batch && !stdout.Contains(batch, StringComparison.Ordinal) ? $"no {batch} in the answer, documented"
                    : null;
                if (problem is not null)
                    failures.Add($"line {example.Line}: {problem}\n  {example.Command}\n  stdout: {Clip(stdout)}\n  stderr: {Clip(stderr)}");
            }
            Assert.True(failures.Count == 0, $"{document}: {failures.Count} of {examples.Count} examples failed:\n" + string.Join("\n", failures));
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Start_up_on_the_embedded_store_logs_no_exception()
    {
        using var service = await StartServiceAsync(RepositoryRoot.Path);
        using var http = new HttpClient();
        using var visit = await http.PostAsync(ServiceUrl + "/rest/v1/delivery?client=demo&sessionId=s1",
            new StringContent("""{"context":{"channel":"web"},"id":{"thirdPartyId":"crm-1"}}""", Encoding.UTF8, "application/json"));
        Assert.True(visit.IsSuccessStatusCode);
        using var metrics = await http.GetAsync(ServiceUrl + "/metrics");
        Assert.True(metrics.IsSuccessStatusCode);

        var output = service.Output;
        Assert.DoesNotContain("Exception", output, StringComparison.Ordinal);
        Assert.DoesNotContain("[ERR]", output, StringComparison.Ordinal);
        Assert.DoesNotContain("[FTL]", output, StringComparison.Ordinal);
    }

    /// <summary>The example commands of a Markdown document, backslash-continued lines joined, with their documented status.</summary>
    internal static List<(int Line, string Command, int? ExpectedStatus, string? BatchStatus)> Examples(string markdown)
    {
        var lines = markdown.Split('\n');
        var examples = new List<(int, string, int?, string?)>();
        var inBash = false;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                inBash = !inBash && line.Trim() == "```bash";
                continue;
            }
            if (!inBash || !(line.StartsWith("curl ", StringComparison.Ordinal) || line.StartsWith("printf ", StringComparison.Ordinal))) continue;
            var start = i + 1;
            var parts = new List<string> { line };
            while (parts[^1].EndsWith('\\') && i + 1 < lines.Length)
            {
                parts[^1] = parts[^1][..^1].TrimEnd();
                parts.Add(lines[++i].TrimEnd('\r').Trim());
            }
            var command = string.Join(' ', parts);
            int? expected = null;
            if (i + 1 < lines.Length && DocumentedStatus().Match(lines[i + 1]) is { Success: true } match)
                expected = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            var batchStatus = i + 1 < lines.Length && lines[i + 1].StartsWith('#') && DocumentedBatchStatus().Match(lines[i + 1]) is { Success: true } status
                ? status.Value : null;
            examples.Add((start, command, expected, batchStatus));
        }
        return examples;
    }

    private static async Task<ProcessRunner> StartServiceAsync(string root)
    {
        // README's run command; --no-build because the test run has just built it (a second build of the same project
        // while tests run would race with the build output), and the test's own configuration (Debug or Release).
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var service = ProcessRunner.Start("dotnet", ["run", "--no-build", "-c", configuration, "--project", "src/ProfileUpdate.Api"], root);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var ready = await Eventually.TryWaitUntilAsync(async () =>
        {
            if (service.HasExited) return true;
            try
            {
                using var response = await http.GetAsync(ServiceUrl + "/health/ready");
                return response.IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
            catch (TaskCanceledException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(90));
        Assert.True(ready && !service.HasExited, "The service started with dotnet run did not answer on " + ServiceUrl + ":\n" + service.Output);
        return service;
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> RunAsync(string command, string directory)
    {
        var info = new ProcessStartInfo("bash")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(command);
        info.Environment["CURL_HOME"] = directory;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    private static string Clip(string text) => text.Length <= 400 ? text.Trim() : text[..400].Trim() + "…";

    [GeneratedRegex(@"__STATUS__(\d{3})")]
    private static partial Regex StatusMarker();

    [GeneratedRegex(@"^#\s*(?:HTTP/\d(?:\.\d)?\s+)?(\d{3})\b")]
    private static partial Regex DocumentedStatus();

    [GeneratedRegex(@"<status>\w+</status>")]
    private static partial Regex DocumentedBatchStatus();
}
