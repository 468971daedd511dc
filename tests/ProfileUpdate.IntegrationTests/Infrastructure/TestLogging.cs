using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace ProfileUpdate.IntegrationTests.Infrastructure;

/// <summary>Every log entry of an in-process service, kept for the test to look at.</summary>
internal static class TestLogging
{
    /// <summary>
    /// A logger factory that sends every category's lines from <paramref name="minimum"/> up to <paramref name="collector"/>.
    /// The service logs through Serilog, which ignores other providers: register it as the service's
    /// <see cref="ILoggerFactory"/> (last, so it wins).
    /// </summary>
    public static ILoggerFactory To(FakeLogCollector collector, LogLevel minimum) =>
        LoggerFactory.Create(b => b.SetMinimumLevel(minimum).AddProvider(new FakeLoggerProvider(collector)));
}
