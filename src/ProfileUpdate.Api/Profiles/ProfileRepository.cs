using System.Globalization;
using ProfileUpdate.Api.Store;
using StackExchange.Redis;

namespace ProfileUpdate.Api.Profiles;

/// <summary>Whether a write may create a missing profile. Values are written into the script's arguments.</summary>
public enum WriteMode : byte
{
    UpdateOnly = (byte)'u',
    CreateIfMissing = (byte)'c',
}

/// <summary>What a write did; the numbers are what apply.lua returns.</summary>
public enum WriteResult : byte
{
    ProfileNotFound = 0,
    Applied = 1,
    Created = 2,
}

/// <summary>One write into one profile, identified by its tntId (as given; the location hint is stripped for the key).</summary>
public sealed record ProfileWrite(string Client, string TntId, string? ThirdPartyId, WriteMode Mode, IReadOnlyList<ProfileAttribute> Attributes);

/// <summary>A profile as read back (spec §4).</summary>
public sealed record ProfileDocument(
    string TntId,
    string? ThirdPartyId,
    DateTimeOffset CreatedAt,
    DateTimeOffset ModifiedAt,
    IReadOnlyDictionary<string, (string Value, DateTimeOffset ModifiedAt)> Attributes);

/// <summary>The profile store in Redis. Every multi-entry write is one script call per hash slot (one per batch on standalone Redis).</summary>
public sealed class ProfileRepository(RedisStore store, ScriptCatalog scripts)
{
    /// <summary>Resolves thirdPartyIds to the tntIds they are linked to (null: not linked) in one pipelined round trip.</summary>
    public async Task<string?[]> ResolveThirdPartyAsync(IReadOnlyList<(string Client, string ThirdPartyId)> ids)
    {
        var db = store.Database;
        var pending = new Task<RedisValue>[ids.Count];
        for (var i = 0; i < ids.Count; i++)
            pending[i] = db.StringGetAsync(RedisKeys.ThirdParty(ids[i].Client, ids[i].ThirdPartyId));
        await Task.WhenAll(pending);
        var result = new string?[ids.Count];
        for (var i = 0; i < ids.Count; i++)
            result[i] = pending[i].Result.IsNull ? null : (string?)pending[i].Result;
        return result;
    }

    public async Task<string?> ResolveThirdPartyAsync(string client, string thirdPartyId)
    {
        var value = await store.Database.StringGetAsync(RedisKeys.ThirdParty(client, thirdPartyId));
        return value.IsNull ? null : (string?)value;
    }

    /// <summary>
    /// Links a thirdPartyId to a profile unless it is linked already; returns the tntId it is linked to. The first link
    /// wins and is never moved, so a resolved link can be trusted without re-checking.
    /// </summary>
    public async Task<string> LinkThirdPartyAsync(string client, string thirdPartyId, string candidateTntId)
    {
        var db = store.Database;
        var key = RedisKeys.ThirdParty(client, thirdPartyId);
        if (await db.StringSetAsync(key, candidateTntId, when: When.NotExists)) return candidateTntId;
        var existing = await db.StringGetAsync(key);
        return existing.IsNull ? candidateTntId : (string)existing!;
    }

    /// <summary>Writes every entry; results[i] tells what happened to writes[i]. Throws when the store fails.</summary>
    public async Task WriteAsync(IReadOnlyList<ProfileWrite> writes, WriteResult[] results)
    {
        if (writes.Count == 0) return;
        var keys = new RedisKey[writes.Count];
        for (var i = 0; i < writes.Count; i++)
            keys[i] = RedisKeys.Profile(writes[i].Client, VisitorIds.TntBase(writes[i].TntId));

        if (!store.IsCluster)
        {
            await WriteGroupAsync(writes, keys, Enumerable.Range(0, writes.Count).ToArray(), results);
            return;
        }

        // A cluster runs a multi-key script only when every key is in one slot: one call per slot present, all pipelined.
        var groups = new Dictionary<int, List<int>>();
        for (var i = 0; i < keys.Length; i++)
        {
            var slot = store.HashSlot(keys[i]);
            if (!groups.TryGetValue(slot, out var list)) groups[slot] = list = [];
            list.Add(i);
        }
        await Task.WhenAll(groups.Values.Select(g => WriteGroupAsync(writes, keys, g.ToArray(), results)));
    }

    private async Task WriteGroupAsync(IReadOnlyList<ProfileWrite> writes, RedisKey[] allKeys, int[] members, WriteResult[] results)
    {
        var keys = new RedisKey[members.Length];
        var argCount = 0;
        foreach (var m in members) argCount += 4 + 2 * writes[m].Attributes.Count;
        var args = new RedisValue[argCount];
        var a = 0;
        for (var k = 0; k < members.Length; k++)
        {
            var w = writes[members[k]];
            keys[k] = allKeys[members[k]];
            args[a++] = w.Mode == WriteMode.CreateIfMissing ? "c" : "u";
            args[a++] = w.TntId;
            args[a++] = w.ThirdPartyId ?? string.Empty;
            args[a++] = w.Attributes.Count;
            foreach (var attribute in w.Attributes)
            {
                args[a++] = attribute.Name;
                args[a++] = attribute.Value;
            }
        }

        var reply = (RedisResult[])(await scripts.Apply.EvaluateAsync(store.Database, keys, args))!;
        for (var k = 0; k < members.Length; k++)
            results[members[k]] = (WriteResult)(int)reply[k];
    }

    public async Task<ProfileDocument?> ReadAsync(string client, string tntId)
    {
        var entries = await store.Database.HashGetAllAsync(RedisKeys.Profile(client, VisitorIds.TntBase(tntId)));
        if (entries.Length == 0) return null;

        string? storedTnt = null, thirdParty = null;
        long created = 0, modified = 0;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var times = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var field = (string)entry.Name!;
            switch (field)
            {
                case RedisKeys.FieldTntId: storedTnt = entry.Value; break;
                case RedisKeys.FieldThirdPartyId: thirdParty = entry.Value; break;
                case RedisKeys.FieldCreated: created = (long)entry.Value; break;
                case RedisKeys.FieldModified: modified = (long)entry.Value; break;
                default:
                    if (field.StartsWith(RedisKeys.AttributePrefix, StringComparison.Ordinal))
                        values[field[RedisKeys.AttributePrefix.Length..]] = entry.Value!;
                    else if (field.StartsWith(RedisKeys.AttributeModifiedPrefix, StringComparison.Ordinal))
                        times[field[RedisKeys.AttributeModifiedPrefix.Length..]] = (long)entry.Value;
                    break;
            }
        }
        if (storedTnt is null) return null; // not a profile created through this service

        var attributes = new SortedDictionary<string, (string, DateTimeOffset)>(StringComparer.Ordinal);
        foreach (var (name, value) in values)
            attributes[name] = (value, FromMs(times.GetValueOrDefault(name, modified)));
        return new ProfileDocument(storedTnt, thirdParty, FromMs(created), FromMs(modified), attributes);
    }

    private static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    internal static string FormatTimestamp(DateTimeOffset value) =>
        value.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);
}
