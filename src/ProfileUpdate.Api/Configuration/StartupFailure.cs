using System.Reflection;
using System.Text.RegularExpressions;

namespace ProfileUpdate.Api.Configuration;

/// <summary>
/// A service that cannot start (a setting out of range or of the wrong type, a misspelled setting, a connection string
/// that does not parse, a spool directory it cannot use) says why in one line on stderr, naming the setting as it is
/// written in configuration and in the environment, and exits with code 1 — instead of an unhandled exception's stack
/// trace and SIGABRT (exit code 134), which an orchestrator reports as a crash rather than as a configuration error.
/// </summary>
/// <remarks>
/// The start-up code stays free of try/catch: a test host (WebApplicationFactory) runs the same entry point and must see
/// the exception itself. Once the service has started, an unhandled exception is a defect, not a configuration error,
/// and keeps the runtime's default report (stack trace included).
/// </remarks>
public static partial class StartupFailure
{
    public const int ExitCode = 1;

    private static volatile bool s_started;

    /// <summary>Reports an exception that ends the process before <see cref="Started"/> was called; the process's own entry point only.</summary>
    public static void ReportUntilStarted()
    {
        // Under a test host the entry assembly is the test runner's: exiting its process on another test's exception
        // would end the whole run.
        if (Assembly.GetEntryAssembly() != typeof(StartupFailure).Assembly) return;
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            if (s_started || e.ExceptionObject is not Exception failure) return;
            // The messages only: configuration errors need no stack trace, and these name settings, never profile data.
            Console.Error.WriteLine($"The service cannot start: {Describe(failure)}");
            Console.Error.Flush();
            Environment.Exit(ExitCode);
        };
    }

    /// <summary>From now on an unhandled exception is the runtime's to report.</summary>
    public static void Started() => s_started = true;

    /// <summary>The failure in words: every message of the exception chain, setting paths written as configuration keys.</summary>
    public static string Describe(Exception failure)
    {
        var parts = new List<string>();
        for (var e = failure; e is not null; e = e.InnerException)
        {
            IEnumerable<string> messages = e is OptionsValidationException validation ? validation.Failures : [e.Message];
            // The binder wraps the parse error ("Failed to convert configuration value 'maybe' at 'ProfileUpdate:Quota:Enabled'
            // to type 'System.Boolean'") around the type's own ("maybe is not a valid value for Boolean"): both help.
            foreach (var message in messages.Select(Setting))
            {
                if (message.Length == 0) continue;
                var sentence = message.EndsWith('.') ? message : message + ".";
                // An outer message that quotes the inner one (a wrapper adding which setting it was) says it already.
                if (!parts.Exists(p => p.Contains(message, StringComparison.Ordinal))) parts.Add(sentence);
            }
            if (e is OptionsValidationException) break; // its failures say it all
        }
        return string.Join(" ", parts);
    }

    /// <summary>
    /// "Limit: The field ProfileUpdateOptions.Quota.Limit must be …" (the options validator's words) →
    /// "The setting ProfileUpdate:Quota:Limit (environment: ProfileUpdate__Quota__Limit) must be …".
    /// </summary>
    private static string Setting(string message)
    {
        message = MemberPrefix().Replace(message, "");
        // The binder's wrapper around the unknown keys' own message, which follows as its inner exception.
        if (message.StartsWith("'ErrorOnUnknownConfiguration' was set and binding has failed", StringComparison.Ordinal)) return "";
        if (UnknownKeys().Match(message) is { Success: true } unknown)
        {
            var section = SectionOf(unknown.Groups["type"].Value) ?? ProfileUpdateOptions.Section;
            return $"{section} has no setting {unknown.Groups["names"].Value.TrimEnd('.')} (misspelled? README lists every setting)";
        }
        return OptionsPath().Replace(message, match =>
        {
            var path = match.Groups["path"].Value.Replace('.', ':').Replace("[", ":", StringComparison.Ordinal)
                .Replace("]", "", StringComparison.Ordinal).Replace("\"", "", StringComparison.Ordinal);
            var key = $"{ProfileUpdateOptions.Section}:{path}";
            return $"setting {key} (environment: {key.Replace(":", "__", StringComparison.Ordinal)})";
        });
    }

    /// <summary>The configuration path an options type is bound at (ProfileUpdate:Quota for QuotaOptions), or null.</summary>
    private static string? SectionOf(string typeName)
    {
        string? Find(Type type, string path)
        {
            if (type.FullName == typeName) return path;
            foreach (var property in type.GetProperties())
            {
                var child = property.PropertyType;
                var childPath = $"{path}:{property.Name}";
                // Per-client settings: a dictionary of option objects keyed by the client code.
                if (child.IsGenericType && child.GetGenericTypeDefinition() == typeof(Dictionary<,>))
                {
                    child = child.GetGenericArguments()[1];
                    childPath += ":<client>";
                }
                if (child.IsClass && child.Namespace == typeof(ProfileUpdateOptions).Namespace && Find(child, childPath) is { } found)
                    return found;
            }
            return null;
        }
        return Find(typeof(ProfileUpdateOptions), ProfileUpdateOptions.Section);
    }

    [GeneratedRegex(@"following properties were not found on the instance of (?<type>[\w.]+): (?<names>.+)$")]
    private static partial Regex UnknownKeys();

    [GeneratedRegex(@"^\w+: (?=The field )")]
    private static partial Regex MemberPrefix();

    [GeneratedRegex(@"field ProfileUpdateOptions\.(?<path>[\w.\[\]""]+?)(?= must| is|\.?$)")]
    private static partial Regex OptionsPath();
}
