using ProfileUpdate.Api.Profiles;
using ProfileUpdate.Api.Store;
using StackExchange.Redis;

namespace ProfileUpdate.Api.Quota;

/// <summary>What one quota call decided.</summary>
/// <param name="Admitted">Units admitted (the first ones asked for).</param>
/// <param name="Remaining">Units left in the window after this call.</param>
/// <param name="ResetSeconds">Seconds until the oldest used unit frees (0 when none is used).</param>
/// <param name="RetryAfterSeconds">For denied units: seconds until one more would be admitted (0 when none was denied).</param>
public readonly record struct QuotaDecision(long Admitted, long Remaining, long ResetSeconds, long RetryAfterSeconds)
{
    /// <summary>What the applier uses when the quota is switched off (ProfileUpdate:Quota:Enabled=false).</summary>
    public static QuotaDecision Unlimited(long limit, long units) => new(units, limit, 0, 0);
}

/// <summary>
/// The rolling 24-hour quota per client (DESIGN.md §3): minute buckets in one small hash per client, kept by one Lua call
/// that reads Redis TIME, so every instance shares one clock and one count. State stays under 100 KB per client at any
/// rate (at most 1,441 small fields) and disappears after a day without traffic.
/// </summary>
public sealed class QuotaStore(RedisStore store, ScriptCatalog scripts, TimeProvider time)
{
    public const int WindowSeconds = 86_400;
    private static readonly RedisValue KeyTtl = WindowSeconds + 3_600;

    /// <summary>Hash-tagged on the client so the script is single-slot on a cluster.</summary>
    public static string Key(string client) => $"pu:q:{{{client}}}";

    /// <summary>Admits up to <paramref name="units"/> units (0 only looks).</summary>
    public async Task<QuotaDecision> ConsumeAsync(string client, long limit, long units)
    {
        var reply = (RedisResult[])(await scripts.Quota.EvaluateAsync(store.Database, [Key(client)], [limit, units, Now(), KeyTtl]))!;
        return Decision(reply);
    }

    /// <summary>
    /// Standalone Redis only: admits one unit per entry of <paramref name="units"/> and, in the same script call, writes
    /// the admitted entries that have a profile write (null: the visitor is unknown — the unit is still spent, as in
    /// <see cref="ConsumeAsync"/> + <see cref="ProfileRepository.WriteAsync"/>). One round trip instead of two.
    /// </summary>
    /// <returns>The quota decision, and the write results of the admitted writes in order.</returns>
    public async Task<(QuotaDecision Decision, WriteResult[] Results)> ConsumeAndWriteAsync(string client, long limit, IReadOnlyList<ProfileWrite?> units)
    {
        var writes = 0;
        var argCount = 6 + units.Count;
        foreach (var unit in units)
        {
            if (unit is null) continue;
            writes++;
            argCount += ProfileRepository.ApplyArgumentCount(unit);
        }
        var keys = new RedisKey[1 + writes];
        var args = new RedisValue[argCount];
        keys[0] = Key(client);
        args[0] = limit;
        args[1] = units.Count;
        args[2] = Now();
        args[3] = KeyTtl;
        args[4] = units.Count;
        var stamp = WriteStamp.At(time);
        args[5 + units.Count] = stamp.Now;
        var a = 6 + units.Count;
        var k = 1;
        for (var i = 0; i < units.Count; i++)
        {
            args[5 + i] = units[i] is null ? "0" : "1";
            if (units[i] is not { } write) continue;
            keys[k++] = ProfileRepository.ProfileKey(write);
            ProfileRepository.AddApplyArguments(args, ref a, write, stamp);
        }

        var reply = (RedisResult[])(await scripts.QuotaApply.EvaluateAsync(store.Database, keys, args))!;
        var results = new WriteResult[reply.Length - 4];
        for (var i = 0; i < results.Length; i++) results[i] = (WriteResult)(int)reply[4 + i];
        return (Decision(reply), results);
    }

    // Production uses Redis TIME: instance clocks may disagree, Redis's does not. An injected clock (tests) is passed in.
    private RedisValue Now() => ReferenceEquals(time, TimeProvider.System)
        ? RedisValue.EmptyString
        : time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;

    private static QuotaDecision Decision(RedisResult[] reply) =>
        new((long)reply[0], (long)reply[1], (long)reply[2], (long)reply[3]);
}
