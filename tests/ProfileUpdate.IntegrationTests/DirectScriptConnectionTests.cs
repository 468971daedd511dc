using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using ProfileUpdate.Api.Store;
using StackExchange.Redis;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// The applier's own script connection against a real redis-server: results, errors, reply order under concurrency,
/// timeouts, a killed connection, AUTH and SELECT. The service's whole test suite also runs through it (it is the
/// default on standalone Redis and the embedded store); these cover what that suite cannot provoke on purpose.
/// </summary>
public sealed class DirectScriptConnectionTests : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    // Returns its numeric arguments, or sets KEYS[1] and returns 1 when asked to write.
    private static readonly RedisScript Echo = RedisScript.FromSource("echo", """
        if ARGV[1] == 'write' then redis.call('SET', KEYS[1], ARGV[2]) return 1 end
        if ARGV[1] == 'fail' then return redis.error_reply('ERR the script refused: ' .. ARGV[2]) end
        if ARGV[1] == 'text' then return 'not a number' end
        local r = {}
        for i = 1, #ARGV do r[i] = tonumber(ARGV[i]) end
        return r
        """);

    private readonly RedisServer _redis = new();
    private readonly ConnectionMultiplexer? _admin;

    public DirectScriptConnectionTests()
    {
        if (RedisServer.IsAvailable) _admin = ConnectionMultiplexer.Connect(_redis.ConnectionString + ",allowAdmin=true");
    }

    public void Dispose()
    {
        _admin?.Dispose();
        _redis.Dispose();
    }

    private static DirectScriptConnection Open(string connectionString, Func<bool>? storeConnected = null) =>
        DirectScriptConnection.TryCreate(ConfigurationOptions.Parse(connectionString), enabled: true, storeConnected ?? (() => true),
            NullLogger.Instance) ?? throw new InvalidOperationException("not eligible");

    private static Task<long[]> EchoAsync(DirectScriptConnection connection, params long[] values) =>
        connection.EvaluateAsync(Echo, [], Array.ConvertAll(values, v => (RedisValue)v));

    [SkippableFact]
    public async Task Returns_the_scripts_integers_and_loads_a_script_the_server_does_not_know()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        using var connection = Open(_redis.ConnectionString);
        // A fresh server: EVALSHA is answered NOSCRIPT, and the call is sent again with the source.
        Assert.Equal(new long[] { 1, -2, 1234567890123 }, await EchoAsync(connection, 1, -2, 1234567890123));
        await _admin!.GetServers()[0].ScriptFlushAsync();
        Assert.Equal(new long[] { 7 }, await EchoAsync(connection, 7));
        Assert.Equal(new long[] { 8 }, await EchoAsync(connection, 8));
    }

    [SkippableFact]
    public async Task A_script_error_fails_that_call_only()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        using var connection = Open(_redis.ConnectionString);
        var error = await Assert.ThrowsAsync<RedisServerException>(() => connection.EvaluateAsync(Echo, [], ["fail", "why"]));
        Assert.Contains("the script refused: why", error.Message, StringComparison.Ordinal);
        var shape = await Assert.ThrowsAsync<RedisServerException>(() => connection.EvaluateAsync(Echo, [], ["text"]));
        Assert.Contains("not a list of integers", shape.Message, StringComparison.Ordinal);
        Assert.Equal(new long[] { 3 }, await EchoAsync(connection, 3));
    }

    [SkippableFact]
    public async Task Concurrent_calls_each_get_their_own_reply_even_when_large()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        using var connection = Open(_redis.ConnectionString);
        await EchoAsync(connection, 0); // loads the script
        var callers = Enumerable.Range(0, 8).Select(caller => Task.Run(async () =>
        {
            for (var i = 0; i < 200; i++)
            {
                // Every 50th call carries 40,000 arguments (about 0.5 MB): larger than a socket buffer, and a reply
                // larger than the reader's first buffer.
                var count = i % 50 == 0 ? 40_000 : 1 + i % 7;
                var values = Enumerable.Range(0, count).Select(k => caller * 1_000_000L + i * 1_000L + k).ToArray();
                Assert.Equal(values, await EchoAsync(connection, values));
            }
        }));
        await Task.WhenAll(callers).WaitAsync(Deadline);
    }

    [SkippableFact]
    public async Task A_call_not_answered_in_time_fails_with_a_timeout_and_its_late_reply_goes_to_no_one_else()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        using var connection = Open(_redis.ConnectionString + ",asyncTimeout=300");
        var key = "direct:" + Guid.NewGuid().ToString("N");
        await EchoAsync(connection, 0);

        // Redis holds writes: the write script waits, past the timeout.
        await _admin!.GetDatabase().ExecuteAsync("CLIENT", "PAUSE", "20000", "WRITE");
        try
        {
            var held = connection.EvaluateAsync(Echo, [key], ["write", "late"]);
            await Assert.ThrowsAsync<RedisTimeoutException>(() => held);
        }
        finally
        {
            await _admin.GetDatabase().ExecuteAsync("CLIENT", "UNPAUSE");
        }
        // The held call's reply (1) arrives after the pause; the next call must get its own (42), not that one.
        Assert.Equal(new long[] { 42 }, await EchoAsync(connection, 42));
        Assert.Equal("late", (string?)await _admin.GetDatabase().StringGetAsync(key)); // sent, so it ran
    }

    [SkippableFact]
    public async Task A_killed_connection_fails_its_calls_and_the_next_call_opens_a_new_one()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        using var connection = Open(_redis.ConnectionString + ",name=direct-test");
        Assert.Equal(new long[] { 1 }, await EchoAsync(connection, 1));
        var server = _admin!.GetServers()[0];
        var before = (await server.ClientListAsync()).Single(c => c.Name == "direct-test-apply");

        await _admin.GetDatabase().ExecuteAsync("CLIENT", "KILL", "ID", before.Id.ToString(CultureInfo.InvariantCulture));
        // Until the reader has seen the close, a call may still go out on the dead socket and fail as a connection
        // error (the applier retries those); after that, calls reconnect.
        var failures = 0;
        long[]? result = null;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (result is null && watch.Elapsed < Deadline)
        {
            try
            {
                result = await EchoAsync(connection, 2);
            }
            catch (RedisConnectionException)
            {
                failures++;
            }
        }
        Assert.Equal(new long[] { 2 }, result!);
        Assert.True(failures <= 1, $"{failures} calls failed after one kill");
        var after = (await server.ClientListAsync()).Single(c => c.Name == "direct-test-apply");
        Assert.NotEqual(before.Id, after.Id);
    }

    [SkippableFact]
    public async Task While_the_store_is_reported_down_a_call_fails_at_once_without_connecting()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        var up = false;
        using var connection = Open(_redis.ConnectionString + ",name=direct-down", () => up);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await Assert.ThrowsAsync<RedisConnectionException>(() => EchoAsync(connection, 1));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.ElapsedMilliseconds} ms");
        Assert.DoesNotContain(await _admin!.GetServers()[0].ClientListAsync(), c => c.Name == "direct-down-apply");
        up = true;
        Assert.Equal(new long[] { 5 }, await EchoAsync(connection, 5));
    }

    [SkippableFact]
    public async Task Authenticates_as_the_configured_user_and_uses_the_configured_database()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        var user = "u" + Guid.NewGuid().ToString("N")[..8];
        await _admin!.GetDatabase().ExecuteAsync("ACL", "SETUSER", user, "on", ">s3cret", "~*", "+@all");
        var key = "direct:" + Guid.NewGuid().ToString("N");

        using (var connection = Open($"{_redis.ConnectionString},user={user},password=s3cret,defaultDatabase=3"))
            Assert.Equal(new long[] { 1 }, await connection.EvaluateAsync(Echo, [key], ["write", "in-3"]));
        Assert.Equal("in-3", (string?)await _admin.GetDatabase(3).StringGetAsync(key));
        Assert.False(await _admin.GetDatabase(0).KeyExistsAsync(key));

        using var refused = Open($"{_redis.ConnectionString},user={user},password=wrong");
        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => EchoAsync(refused, 1));
        Assert.Equal(ConnectionFailureType.AuthenticationFailure, error.FailureType);
        Assert.DoesNotContain("wrong", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Is_used_only_for_one_plain_tcp_endpoint_and_when_switched_on()
    {
        static DirectScriptConnection? For(string configuration, bool enabled = true) =>
            DirectScriptConnection.TryCreate(ConfigurationOptions.Parse(configuration), enabled, () => true, NullLogger.Instance);

        using (var plain = For("127.0.0.1:6379")) Assert.NotNull(plain);
        using (var named = For("redis.internal:6379,password=x")) Assert.NotNull(named);
        Assert.Null(For("127.0.0.1:6379", enabled: false));
        Assert.Null(For("127.0.0.1:6379,ssl=true"));
        Assert.Null(For("127.0.0.1:6379,127.0.0.1:6380"));
        Assert.Null(For("127.0.0.1:26379,serviceName=mymaster"));
    }
}
