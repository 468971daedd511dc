using ProfileUpdate.Api.Store;
using StackExchange.Redis;

namespace ProfileUpdate.Api.Quota;

/// <summary>
/// The rolling 24-hour quota per client: minute buckets in one small hash per client, kept by one Lua call that reads
/// Redis TIME, so every instance shares one clock and one count. State stays under 100 KB per client at any rate (at
/// most 1,441 small fields) and disappears after a day without traffic. docs/architecture.md describes the layout.
/// </summary>
public sealed class QuotaRepository(StoreConnections store, ScriptCatalog scripts, TimeProvider time)
{
    public const int WindowSeconds = 86_400;

    /// <summary>How many arguments <see cref="AddArguments"/> writes: the quota script's ARGV.</summary>
    public const int ArgumentCount = 4;

    private static readonly RedisValue KeyTtl = WindowSeconds + 3_600;

    /// <summary>Hash-tagged on the client so the script is single-slot on a cluster.</summary>
    public static RedisKey Key(string client) => $"pu:q:{{{client}}}";

    /// <summary>Admits up to <paramref name="units"/> units (0 only looks).</summary>
    public async Task<QuotaDecision> ConsumeAsync(string client, long limit, long units)
    {
        var args = new RedisValue[ArgumentCount];
        AddArguments(args, limit, units);
        var reply = (RedisResult[])(await scripts.Quota.EvaluateAsync(store.Database, [Key(client)], args))!;
        return Decision(reply);
    }

    /// <summary>
    /// The quota as it stands, for the RateLimit headers of a refused request; null when the store cannot say (the
    /// refusal stands on its own and is not turned into a 503 by a failed look).
    /// </summary>
    public async Task<QuotaDecision?> TryPeekAsync(string client, long limit)
    {
        try
        {
            return await ConsumeAsync(client, limit, 0);
        }
        catch (Exception ex) when (StoreFailures.IsUnavailable(ex))
        {
            return null;
        }
    }

    /// <summary>
    /// Writes the quota script's arguments (limit, units, now, key TTL) at the start of <paramref name="args"/>, for a
    /// script that runs the quota as its first step (quota_apply.lua).
    /// </summary>
    public void AddArguments(RedisValue[] args, long limit, long units)
    {
        args[0] = limit;
        args[1] = units;
        args[2] = Now();
        args[3] = KeyTtl;
    }

    /// <summary>The decision in the first four numbers of a quota reply.</summary>
    public static QuotaDecision Decision(RedisResult[] reply) =>
        new((long)reply[0], (long)reply[1], (long)reply[2], (long)reply[3]);

    // Production uses Redis TIME: instance clocks may disagree, Redis's does not. An injected clock (tests) is passed in.
    private RedisValue Now() => ReferenceEquals(time, TimeProvider.System)
        ? RedisValue.EmptyString
        : time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
}
