using StackExchange.Redis;

namespace ProfileUpdate.Api.Store;

/// <summary>
/// Profiles:Partitions is part of every profile's key, so a service configured with another value than the one a store
/// was filled with would not find a single profile. The first service to reach a store writes its value into the layout
/// marker (<see cref="RedisKeys.Layout"/>); every later start compares. A mismatch found at start-up stops the start; one
/// found later (the store was down at start-up, and connecting never blocks start-up) stops the service, so it never
/// runs against a store it cannot read.
/// </summary>
public sealed partial class StoreLayoutCheck(StoreConnections store, ProfileLayout layout, IHostApplicationLifetime lifetime,
    ILogger<StoreLayoutCheck> logger) : IHostedService
{
    public string Expected => $"profiles:p{layout.Partitions}";

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (store.Multiplexer.IsConnected && await TryCheckAsync() is { } found)
        {
            if (found != Expected) throw new InvalidOperationException(Mismatch(found));
            return;
        }
        _ = Task.Run(RetryUntilCheckedAsync, CancellationToken.None);
    }

    private async Task RetryUntilCheckedAsync()
    {
        var stopping = lifetime.ApplicationStopping;
        while (!stopping.IsCancellationRequested)
        {
            if (await TryCheckAsync() is { } found)
            {
                if (found == Expected) return;
                LogMismatch(logger, Mismatch(found));
                Environment.ExitCode = 1;
                lifetime.StopApplication();
                return;
            }
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>The store's layout (written now when it had none); null when the store cannot be reached.</summary>
    private async Task<string?> TryCheckAsync()
    {
        try
        {
            var db = store.Database;
            if (await db.StringSetAsync(RedisKeys.Layout, Expected, when: When.NotExists)) return Expected;
            return (string?)await db.StringGetAsync(RedisKeys.Layout) ?? Expected;
        }
        catch (Exception e) when (e is RedisException or TimeoutException)
        {
            return null;
        }
    }

    private string Mismatch(string found) =>
        $"The profile store was filled with the key layout '{found}' ({RedisKeys.Layout}), but this service is configured for " +
        $"'{Expected}' (ProfileUpdate:Profiles:Partitions = {layout.Partitions}). Every profile's key depends on it: set " +
        "ProfileUpdate__Profiles__Partitions to the store's value, or point the service at an empty store.";

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Critical, Message = "{Problem} Stopping.")]
    private static partial void LogMismatch(ILogger logger, string problem);
}
