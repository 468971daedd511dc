namespace ProfileUpdate.Api.Store;

/// <summary>What counts as "the store is unavailable": the client's connection and timeout failures.</summary>
public static class StoreFailures
{
    /// <summary>True for failures a retry after a moment can cure (store down, restarting, failing over, too slow).</summary>
    public static bool IsUnavailable(Exception exception) =>
        exception is StackExchange.Redis.RedisException or TimeoutException;
}
