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
    /// (null: the visitor is unknown — the unit is still spent, as with a quota call followed by a write).
    /// </summary>
    /// <returns>The quota decision, and the write results of the admitted writes in order.</returns>
    public async Task<(QuotaDecision Decision, WriteResult[] Results)> RunAsync(string client, long limit, IReadOnlyList<ProfileWrite?> units)
    {
        const int fixedArgs = QuotaRepository.ArgumentCount + 2;
        var writes = 0;
        var argCount = fixedArgs - 1 + profiles.ApplyCallArgumentCount + units.Count;
        foreach (var unit in units)
        {
            if (unit is null) continue;
            writes++;
            argCount += profiles.ApplyArgumentCount(unit);
        }
        var keys = new RedisKey[1 + writes * profiles.ApplyKeysPerWrite];
        var args = new RedisValue[argCount];
        keys[0] = QuotaRepository.Key(client);
        quota.AddArguments(args, limit, units.Count);
        args[QuotaRepository.ArgumentCount] = units.Count;
        var stamp = WriteStamp.At(time);
        var a = fixedArgs - 1 + units.Count;
        profiles.AddApplyCallArguments(args, ref a, stamp);
        var k = 1;
        for (var i = 0; i < units.Count; i++)
        {
            args[QuotaRepository.ArgumentCount + 1 + i] = units[i] is null ? "0" : "1";
            if (units[i] is not { } write) continue;
            profiles.AddApplyKeys(keys, ref k, write);
            profiles.AddApplyArguments(args, ref a, write, stamp);
        }

        var reply = (RedisResult[])(await scripts.QuotaApply.EvaluateAsync(store.Database, keys, args))!;
        var results = new WriteResult[reply.Length - QuotaRepository.ArgumentCount];
        for (var i = 0; i < results.Length; i++) results[i] = (WriteResult)(int)reply[QuotaRepository.ArgumentCount + i];
        if (profiles.Feed) profiles.CountChanges(units, results);
        return (QuotaRepository.Decision(reply), results);
    }
}
