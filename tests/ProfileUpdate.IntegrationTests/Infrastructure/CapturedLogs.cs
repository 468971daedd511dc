using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace ProfileUpdate.IntegrationTests.Infrastructure;

/// <summary>
/// Every log entry of an in-process service, kept for the test to look at. The service logs through Serilog, which
/// ignores other providers: register <see cref="Factory"/> as the service's <see cref="ILoggerFactory"/> (last, so it wins).
/// </summary>
internal sealed class CapturedLogs : ILoggerProvider
{
    public sealed record Entry(string Category, LogLevel Level, string Message, Exception? Exception);

    private readonly ConcurrentQueue<Entry> _entries = new();

    public IReadOnlyList<Entry> Entries => _entries.ToArray();

    /// <summary>A logger factory that sends every category's lines from <paramref name="minimum"/> up to this capture.</summary>
    public ILoggerFactory Factory(LogLevel minimum) => LoggerFactory.Create(b => b.SetMinimumLevel(minimum).AddProvider(this));

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<Entry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue(new Entry(category, logLevel, formatter(state, exception), exception));
    }
}
