using ProfileUpdate.Api.Profiles;
using ProfileUpdate.Api.Quota;
using ProfileUpdate.Api.Store;
using StackExchange.Redis;

namespace ProfileUpdate.Api.Updates;

/// <summary>
/// Standalone Redis only: one script call (quota_apply.lua) that admits one quota unit per update of a client's share of
/// an applier batch and writes the admitted ones — one round trip instead of two. The quota's arguments come from the
/// quota, the writes' from the profile store: this class only lays them side by side.
/// </summary>
public sealed class QuotaApplyCall(StoreConnections store, ScriptCatalog scripts, QuotaRepository quota, ProfileRepository profiles, TimeProvider time)
{
    /// <summary>
    /// Admits one unit per entry of <paramref name="units"/> and writes the admitted entries that have a profile write
    /// (null: the visitor is unknown — the unit is still spent, as with a quota call followed by a write). Sent again as
    /// the same <paramref name="call"/> with the same units (a retry after the connection broke), it answers exactly what
    /// the first send got when that one ran, and does nothing more.
    /// </summary>
    /// <returns>The quota decision, and the write results of the admitted writes in order.</returns>
    public async Task<(QuotaDecision Decision, WriteResult[] Results)> RunAsync(string client, long limit, IReadOnlyList<ProfileWrite?> units, QuotaCall call)
    {
        const int fixedArgs = QuotaRepository.ArgumentCount + 1; // the quota's (the unit count and reply marker among them), the units' flags
        const int fixedKeys = 2; // the quota hash and the call's reply marker
        var stamp = WriteStamp.At(time);
        var writes = 0;
        var argCount = fixedArgs + profiles.ApplyCallArgumentCount;
        var byteCount = 0;
        foreach (var unit in units)
        {
            if (unit is null) continue;
            writes++;
            argCount += profiles.ApplyArgumentCount(unit);
            byteCount += ProfileRepository.ApplyArgumentBytes(unit, stamp);
        }
        var keys = new RedisKey[fixedKeys + writes * profiles.ApplyKeysPerWrite];
        var args = new RedisValue[argCount];
        keys[0] = QuotaRepository.Key(client);
        keys[1] = call.MarkerKey;
        quota.AddArguments(args, limit, units.Count, call);
        args[QuotaRepository.ArgumentCount] = Flags(units);
        var bytes = new ArgumentBytes(stamp, byteCount);
        var a = fixedArgs;
        profiles.AddApplyCallArguments(args, ref a, stamp);
        var k = fixedKeys;
        for (var i = 0; i < units.Count; i++)
        {
            if (units[i] is not { } write) continue;
            profiles.AddApplyKeys(keys, ref k, write);
            profiles.AddApplyArguments(args, ref a, write, stamp, bytes);
        }

        var reply = await scripts.QuotaApply.EvaluateAsync(store.Database, keys, args);
        var decision = QuotaRepository.Decision(reply, out var stored);
        // A string: the first send's reply, from its marker (one digit per write result).
        var results = reply.Resp2Type == ResultType.BulkString
            ? ProfileRepository.StoredResults(stored)
            : ProfileRepository.Results((RedisResult[])reply!, DecisionLength);
        // A replayed reply is counted here for the first time: the first send's was lost before anyone counted it.
        if (profiles.Feed) profiles.CountChanges(units, results);
        return (decision, results);
    }

    /// <summary>The quota decision's numbers at the head of the reply, before the write results.</summary>
    private const int DecisionLength = 4;

    /// <summary>quota_apply.lua's flags: per unit '1' when it has a write, '0' when its visitor is unknown.</summary>
    private static string Flags(IReadOnlyList<ProfileWrite?> units) =>
        string.Create(units.Count, units, static (span, u) =>
        {
            for (var i = 0; i < span.Length; i++) span[i] = u[i] is null ? '0' : '1';
        });
}
