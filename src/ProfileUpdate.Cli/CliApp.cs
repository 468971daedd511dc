using Microsoft.Extensions.DependencyInjection;

namespace ProfileUpdate.Cli;

/// <summary>The <c>profile-update</c> command line; callable in-process (tests pass their own writers).</summary>
public static class CliApp
{
    /// <summary>Every row applied / the command did what it said.</summary>
    public const int Ok = 0;

    /// <summary>The service refused something, or rows failed.</summary>
    public const int Failed = 1;

    /// <summary>Bad input on our side (the CSV, arguments or options that do not parse or are out of range): nothing was sent.</summary>
    public const int BadInput = 2;

    /// <summary>Submitted, but not complete yet (without --wait).</summary>
    public const int NotComplete = 3;

    /// <summary>Parses and runs one command line.</summary>
    /// <param name="args">The arguments.</param>
    /// <param name="output">Where results go.</param>
    /// <param name="error">Where errors go.</param>
    /// <param name="interactive">A terminal: progress bars and colours; otherwise plain lines without ANSI escapes.</param>
    /// <param name="configureClient">Last say over the client's options (tests shorten retry waits).</param>
    /// <param name="cancellationToken">Stops the command as Ctrl-C does (tests end <c>changes --follow</c> with it).</param>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, bool interactive,
        Action<ProfileUpdateClientOptions>? configureClient = null, CancellationToken cancellationToken = default)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = interactive ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = interactive ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        var context = new CliContext(console, output, error, interactive, configureClient);
        var parsed = Commands.Build(context).Parse(args);
        var exit = await parsed.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken).ConfigureAwait(false);
        // A command line that does not parse (an unknown option, a value that is not a number or a time, a negative
        // --wait-timeout) is bad input like any other: exit 2, not System.CommandLine's 1, which means "the service
        // refused". Its errors and the usage are printed as System.CommandLine prints them.
        return parsed.Errors.Count > 0 ? BadInput : exit;
    }
}

/// <summary>What every command needs: the consoles and how to make a client.</summary>
internal sealed record CliContext(IAnsiConsole Console, TextWriter Output, TextWriter Error, bool Interactive,
    Action<ProfileUpdateClientOptions>? ConfigureClient)
{
    public ServiceProvider CreateServices(Connection connection, Action<string>? onRetry = null)
    {
        var services = new ServiceCollection();
        services.AddProfileUpdateClient(o =>
        {
            o.BaseAddress = new Uri(connection.Url);
            o.Token = connection.Token;
            o.Client = connection.Client;
            o.OnRetry = notice => onRetry?.Invoke($"answered {notice.StatusCode}; retry {notice.Attempt} in {notice.Delay.TotalSeconds:0.#} s");
            o.OnReconnect = notice => onRetry?.Invoke($"change stream: {notice.Reason}; reconnecting in {notice.Delay.TotalSeconds:0.#} s");
            ConfigureClient?.Invoke(o);
        });
        return services.BuildServiceProvider();
    }
}

/// <summary>The service to talk to.</summary>
internal sealed record Connection(string Url, string? Token, string Client);
