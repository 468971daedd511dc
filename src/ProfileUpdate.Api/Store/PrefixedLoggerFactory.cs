namespace ProfileUpdate.Api.Store;

/// <summary>
/// Hands Garnet loggers whose categories start with "Garnet.", so one logging rule (Garnet → Warning) quiets the
/// embedded store's start-up chatter without touching the service's own log levels.
/// </summary>
internal sealed class PrefixedLoggerFactory(ILoggerFactory inner, string prefix) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => inner.CreateLogger(prefix + categoryName);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    // The inner factory belongs to the host, which disposes it.
    public void Dispose()
    {
    }
}
