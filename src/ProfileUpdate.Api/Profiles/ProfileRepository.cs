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
/// <param name="Removals">Attribute names to remove in the same write (<c>emptyValues=remove</c>); null or empty for none.</param>
public sealed record ProfileWrite(string Client, string TntId, string? ThirdPartyId, WriteMode Mode, IReadOnlyList<ProfileAttribute> Attributes,
    IReadOnlyList<string>? Removals = null)
{
    /// <summary>True when the write removes attributes: only then does it carry the removal arguments.</summary>
    public bool HasRemovals => Removals is { Count: > 0 };

    /// <summary>
    /// The thirdPartyId the change feed names for this write when the write itself records none (a single update or a
    /// v1 row addressed by thirdPartyId): informational, never written to the profile.
    /// </summary>
    public string? NamedThirdPartyId { get; init; }

    /// <summary>
    /// Bulk v2: the row ("&lt;batchId&gt;:&lt;line&gt;") recorded in <see cref="RedisKeys.FieldCreated"/> when this write
    /// creates the profile (apply.lua mode 'cb'/'crb'), as the plain-command path records it with its HSETNX.
    /// </summary>
    public string? CreationTag { get; init; }
}

/// <summary>What deleting a profile found: whether its hash existed, and the thirdPartyIds whose links were handled.</summary>
public sealed record ProfileDeletion(bool Found, IReadOnlyList<string> ThirdPartyIds);

/// <summary>A profile as read back (docs/api.md §4).</summary>
public sealed record ProfileDocument(
    string TntId,
    string? ThirdPartyId,
    DateTimeOffset CreatedAt,
    DateTimeOffset ModifiedAt,
    IReadOnlyDictionary<string, (string Value, DateTimeOffset ModifiedAt)> Attributes);

/// <summary>
/// The time writes are stamped with, in the forms the store takes: the epoch-ms value of '_:c'/'_:m' and the
/// "&lt;ms&gt;:" prefix of every attribute value. Taken from the service's clock; the stamps are informational (which
/// value wins is decided by the order Redis applies writes in, not by them).
/// </summary>
public readonly struct WriteStamp(long epochMs)
{
    public long EpochMs { get; } = epochMs;

    public RedisValue Now { get; } = epochMs;

    public string ValuePrefix { get; } = string.Concat(epochMs.ToString(CultureInfo.InvariantCulture), ":");

    public static WriteStamp At(TimeProvider time) => new(time.GetUtcNow().ToUnixTimeMilliseconds());
}

/// <summary>The profile store in Redis. Every multi-entry write is one script call per hash slot (one per batch on standalone Redis).</summary>
public sealed class ProfileRepository(StoreConnections store, ScriptCatalog scripts, TimeProvider time, IOptions<ProfileUpdateOptions> options,
    ProfileLayout layout, ProfileMetrics? metrics = null, ChangeLogSignal? appended = null)
{
    /// <summary>Rounds of delete.lua finding a link made meanwhile before a delete gives up (a visitor linking ids in a loop).</summary>
    private const int MaxDeleteRounds = 16;

    private readonly TimeSpan? _lifetime = options.Value.Profiles.Lifetime;

    // Changes:Enabled: every write also names its client's change log (one more key) and carries its entry (one more
    // argument); off, neither exists and the scripts never touch a log (ScriptCatalog builds them without feed.lua).
    private readonly bool _feed = scripts.Feed;

    // The apply script's modes: one letter, or with Profiles:Lifetime the letter and the lifetime in ms (apply.lua then
    // renews the hash's expiry). Built once, so a write without a lifetime pays nothing for the feature.
    private readonly RedisValue _updateMode = ApplyMode("u", options.Value.Profiles.Lifetime);
    private readonly RedisValue _createMode = ApplyMode("c", options.Value.Profiles.Lifetime);
    private readonly RedisValue _updateRemoveMode = ApplyMode("ur", options.Value.Profiles.Lifetime);
    private readonly RedisValue _createRemoveMode = ApplyMode("cr", options.Value.Profiles.Lifetime);
    private readonly RedisValue _createTaggedMode = ApplyMode("cb", options.Value.Profiles.Lifetime);
    private readonly RedisValue _createRemoveTaggedMode = ApplyMode("crb", options.Value.Profiles.Lifetime);

    private static RedisValue ApplyMode(string letter, TimeSpan? lifetime) =>
        lifetime is { } l ? letter + ((long)l.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) : letter;

    /// <summary>Profiles:Lifetime: how long a profile lives after its last write; null when profiles live until deleted.</summary>
    public TimeSpan? Lifetime => _lifetime;

    /// <summary>Whether writes append to the change feed (Changes:Enabled).</summary>
    public bool Feed => _feed;

    /// <summary>True on Redis Cluster, where one script cannot touch a client's quota and its profiles together.</summary>
    public bool IsCluster => store.IsCluster;

    /// <summary>Resolves thirdPartyIds to the tntIds they are linked to (null: not linked) in one pipelined round trip.</summary>
    public async Task<string?[]> ResolveThirdPartyAsync(IReadOnlyList<(string Client, string ThirdPartyId)> ids)
    {
        var db = store.Database;
        var result = new string?[ids.Count];
        if (!store.IsCluster)
        {
            // One MGET: one command for Redis to parse and one reply for the client to match, whatever the batch size.
            var keys = new RedisKey[ids.Count];
            for (var i = 0; i < ids.Count; i++) keys[i] = RedisKeys.ThirdParty(ids[i].Client, ids[i].ThirdPartyId);
            var values = await db.StringGetAsync(keys);
            for (var i = 0; i < values.Length; i++) result[i] = values[i].IsNull ? null : (string?)values[i];
            return result;
        }

        // On a cluster every id hashes to its own slot, which a multi-key command cannot span: pipelined GETs instead.
        var pending = new Task<RedisValue>[ids.Count];
        for (var i = 0; i < ids.Count; i++)
            pending[i] = db.StringGetAsync(RedisKeys.ThirdParty(ids[i].Client, ids[i].ThirdPartyId));
        await Task.WhenAll(pending);
        for (var i = 0; i < ids.Count; i++)
            result[i] = pending[i].Result.IsNull ? null : (string?)pending[i].Result;
        return result;
    }

    /// <summary>For the read API: on the read connection.</summary>
    public async Task<string?> ResolveThirdPartyAsync(string client, string thirdPartyId)
    {
        await store.WaitForReadsAsync();
        var value = await store.ReadDatabase.StringGetAsync(RedisKeys.ThirdParty(client, thirdPartyId));
        return value.IsNull ? null : (string?)value;
    }

    /// <summary>
    /// Links a thirdPartyId to a profile unless it is linked already; returns the tntId it is linked to. The first link
    /// wins and is never moved, so a resolved link can be trusted without re-checking.
    /// </summary>
    /// <returns>The linked tntId, and whether this call made the link (then the candidate is a brand-new id).</returns>
    public async Task<(string TntId, bool Linked)> LinkThirdPartyAsync(string client, string thirdPartyId, string candidateTntId) =>
        (await LinkThirdPartyAsync(client, [thirdPartyId], [candidateTntId]))[0];

    /// <summary>
    /// <see cref="LinkThirdPartyAsync(string, string, string)"/> for many ids at once (bulk v2): every SET NX pipelined,
    /// then one GET for each id that was linked already. Ids repeated in the list resolve to the first one's link.
    /// </summary>
    public async Task<(string TntId, bool Linked)[]> LinkThirdPartyAsync(string client, IReadOnlyList<string> thirdPartyIds, string[] candidateTntIds)
    {
        var db = store.Database;
        var keys = new RedisKey[thirdPartyIds.Count];
        var setting = new Task<bool>[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            keys[i] = RedisKeys.ThirdParty(client, thirdPartyIds[i]);
            // With a lifetime, a link expires like its profile from the moment it is made (a crash before the profile's
            // write cannot leave a link that lives forever); each write of the profile renews it (RenewLinksAsync).
            setting[i] = db.StringSetAsync(keys[i], candidateTntIds[i], _lifetime, when: When.NotExists);
        }
        await Task.WhenAll(setting);

        var result = new (string TntId, bool Linked)[keys.Length];
        List<(int Index, Task<RedisValue> Existing)>? lookups = null;
        for (var i = 0; i < keys.Length; i++)
        {
            if (setting[i].Result) result[i] = (candidateTntIds[i], true);
            else (lookups ??= []).Add((i, db.StringGetAsync(keys[i])));
        }
        if (lookups is null) return result;
        await Task.WhenAll(lookups.Select(l => l.Existing));
        foreach (var (index, existing) in lookups)
            result[index] = existing.Result.IsNull ? (candidateTntIds[index], false) : ((string)existing.Result!, false);
        return result;
    }

    /// <summary>
    /// Create-or-update with plain pipelined commands instead of a script, for bulk v2 where no condition is needed
    /// (measured: Redis spends about three times longer per profile in a Lua loop than on the same HSET sent plainly).
    /// Every write gets an HSETNX for created, whose answer alone says whether the row created the profile (so a
    /// profile is counted created by exactly one row, even when two batches write it at once), and whose value names
    /// that row (its creation tag after the time), so the same command that decides the creation leaves the evidence a
    /// row re-applied after a crash reads (<see cref="ReadCreatorsAsync"/>); a profile known to be
    /// new (its tntId was generated for a link this batch just made) also gets one HSET with its tntId and attributes,
    /// any other an HSETNX for its tntId, then the HSET. All commands are handed to the connection
    /// before this method returns, so a caller can order chunks of writes; the task completes when Redis has answered.
    /// A write with removals goes as a one-entry apply.lua call in its place instead, so its sets and removals are one
    /// atomic step, as for a single update (a profile known to be new has nothing to remove: it takes the plain path).
    /// </summary>
    /// <param name="creationTags">Per write, its row ("&lt;batchId&gt;:&lt;line&gt;") recorded in <see cref="RedisKeys.FieldCreated"/> when it creates the profile, or null.</param>
    public Task UpsertAsync(IReadOnlyList<ProfileWrite> writes, bool[] knownNew, WriteResult[] results, WriteStamp stamp, string[]? creationTags = null)
    {
        // With the change feed on, each row's entry must be appended in the same atomic step as its write, which plain
        // pipelined commands cannot give: the rows go through apply.lua (create mode) instead, at the script's cost.
        if (_feed) return UpsertWithFeedAsync(writes, results, creationTags);
        var db = store.Database;
        var now = stamp.Now;
        var valuePrefix = stamp.ValuePrefix;
        // Per call, not per attribute: the "a:<name>" fields (a bulk file repeats its header's names on every row, as the
        // very same string instances).
        var fields = new Dictionary<string, RedisValue>(ReferenceEqualityComparer.Instance);
        var pending = new Task[5 * writes.Count];
        var count = 0;
        var createdFlags = new Task<bool>?[writes.Count];
        RedisKey[]? scriptKeys = null;
        ProfileWrite[]? scripted = null; // the writes with removals, carrying their creation tags into apply.lua
        for (var i = 0; i < writes.Count; i++)
        {
            var w = writes[i];
            var key = ProfileKey(w);
            if (w.HasRemovals && !knownNew[i])
            {
                // Sets and removals of one row in one step, as a single update's: an apply.lua entry of its own, issued
                // here so it keeps its place among the chunk's commands (a later row still wins). Plain HSET then HDEL
                // would let a reader see the row's sets without its removals. Only rows that remove pay the script.
                (scriptKeys ??= new RedisKey[writes.Count])[i] = key;
                (scripted ??= new ProfileWrite[writes.Count])[i] = creationTags is null ? w : w with { CreationTag = creationTags[i] };
                pending[count++] = WriteOneAsync(scripted, scriptKeys, i);
                continue;
            }
            // Created: the time, and for a bulk v2 row its tag after it ("<ms>:<batchId>:<line>"), in the one HSETNX.
            var created = creationTags is null ? now : (RedisValue)string.Concat(valuePrefix, creationTags[i]);
            var entries = new HashEntry[1 + (w.ThirdPartyId is null ? 0 : 2) + w.Attributes.Count + (knownNew[i] ? 1 : 0)];
            var e = 0;
            entries[e++] = new HashEntry(RedisKeys.FieldModified, now);
            if (w.ThirdPartyId is { } thirdParty)
            {
                entries[e++] = new HashEntry(RedisKeys.FieldThirdPartyId, thirdParty);
                entries[e++] = new HashEntry(RedisKeys.FieldLinkPrefix + thirdParty, RedisValue.EmptyString);
            }
            foreach (var attribute in w.Attributes)
            {
                if (!fields.TryGetValue(attribute.Name, out var field))
                    fields[attribute.Name] = field = RedisKeys.AttributePrefix + attribute.Name;
                entries[e++] = new HashEntry(field, string.Concat(valuePrefix, attribute.Value));
            }
            // '_:c' is set with HSETNX even for a profile known to be new, and only its answer says Created: this row's
            // link is new, but a concurrent batch (or instance) naming the same thirdPartyId resolves that link at once and
            // its write may reach the hash first; whichever HSETNX lands first is the one row that counts the creation,
            // and its value names that row, so after a crash the re-applied rows agree with the answers given before it:
            // a crash before the HSETNX leaves no '_:c' (the re-applied row's HSETNX counts), one after it leaves the
            // winner's tag (that row, and only that row, finds itself there).
            if (knownNew[i])
            {
                entries[e++] = new HashEntry(RedisKeys.FieldTntId, w.TntId);
                pending[count++] = db.HashSetAsync(key, entries);
                pending[count++] = createdFlags[i] = db.HashSetAsync(key, RedisKeys.FieldCreated, created, When.NotExists);
            }
            else
            {
                pending[count++] = createdFlags[i] = db.HashSetAsync(key, RedisKeys.FieldCreated, created, When.NotExists);
                pending[count++] = db.HashSetAsync(key, RedisKeys.FieldTntId, w.TntId, When.NotExists);
                pending[count++] = db.HashSetAsync(key, entries);
            }
            if (_lifetime is { } lifetime) pending[count++] = db.KeyExpireAsync(key, lifetime);
        }
        return CompleteAsync(new ArraySegment<Task>(pending, 0, count), createdFlags, results, writes);

        // Issues its call before its first await, like the plain commands around it.
        async Task WriteOneAsync(IReadOnlyList<ProfileWrite> list, RedisKey[] keys, int i) => results[i] = (await WriteGroupAsync(list, keys, [i], marker: null))[0];

        async Task CompleteAsync(ArraySegment<Task> pending, Task<bool>?[] createdFlags, WriteResult[] results, IReadOnlyList<ProfileWrite> writes)
        {
            await Task.WhenAll(pending.AsSpan());
            for (var i = 0; i < createdFlags.Length; i++)
                if (createdFlags[i] is { } flag) results[i] = await flag ? WriteResult.Created : WriteResult.Applied;
            if (_lifetime is not null) await RenewLinksAsync(writes, results);
        }
    }

    private Task UpsertWithFeedAsync(IReadOnlyList<ProfileWrite> writes, WriteResult[] results, string[]? creationTags)
    {
        // Every row carries its tag, not only one known to be new: whichever row's entry creates the profile records
        // itself in '_:c' (mode 'cb'), as the plain path's HSETNX does.
        var scripted = new ProfileWrite[writes.Count];
        for (var i = 0; i < writes.Count; i++)
        {
            var w = writes[i];
            scripted[i] = w.Mode == WriteMode.CreateIfMissing && creationTags is null
                ? w
                : w with { Mode = WriteMode.CreateIfMissing, CreationTag = creationTags?[i] };
        }
        return WriteAsync(scripted, results);
    }

    /// <summary>
    /// The row that created each write's profile, as its <see cref="RedisKeys.FieldCreated"/> names it
    /// ("&lt;batchId&gt;:&lt;line&gt;"), or null (no profile, or one no bulk v2 row created), in one pipelined round trip.
    /// A profile whose '_:c' names no row may carry the tag earlier versions wrote (<see cref="RedisKeys.FieldCreatedBy"/>):
    /// that is taken instead, so a batch that crashed under such a version counts as it would have there.
    /// </summary>
    public async Task<string?[]> ReadCreatorsAsync(IReadOnlyList<ProfileWrite> writes)
    {
        var db = store.Database;
        RedisValue[] fields = [RedisKeys.FieldCreated, RedisKeys.FieldCreatedBy];
        var reads = writes.Select(w => db.HashGetAsync(ProfileKey(w), fields)).ToArray();
        await Task.WhenAll(reads);
        return reads.Select(r => CreatorOf(r.Result[0]) ?? (r.Result[1].IsNull ? null : (string?)r.Result[1])).ToArray();
    }

    /// <summary>The row a '_:c' value names ("&lt;ms&gt;:&lt;batchId&gt;:&lt;line&gt;"), or null for a bare time or none.</summary>
    private static string? CreatorOf(RedisValue created)
    {
        if (created.IsNull) return null;
        var text = (string)created!;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return colon < 0 ? null : text[(colon + 1)..];
    }

    /// <summary>The time a '_:c' value holds: all of it, or what comes before the creating row's tag.</summary>
    private static long CreatedMs(RedisValue created)
    {
        var text = (string)created!;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        return long.Parse(colon < 0 ? text : text.AsSpan(0, colon), CultureInfo.InvariantCulture);
    }

    /// <summary>Indexes of <paramref name="keys"/> grouped so each group is one script call: all of them on standalone Redis, one group per hash slot on a cluster.</summary>
    private int[][] SlotGroups(RedisKey[] keys)
    {
        if (!store.IsCluster) return [Enumerable.Range(0, keys.Length).ToArray()];
        var groups = new Dictionary<int, List<int>>();
        for (var i = 0; i < keys.Length; i++)
        {
            var slot = store.HashSlot(keys[i]);
            if (!groups.TryGetValue(slot, out var list)) groups[slot] = list = [];
            list.Add(i);
        }
        return groups.Values.Select(g => g.ToArray()).ToArray();
    }

    /// <summary>Writes every entry; results[i] tells what happened to writes[i]. Throws when the store fails.</summary>
    public Task WriteAsync(IReadOnlyList<ProfileWrite> writes, WriteResult[] results) => WriteAsync(PlanWrite(writes, markers: false), results);

    /// <summary>
    /// The apply.lua calls of a multi-entry write, for <see cref="WriteAsync(WritePlan, WriteResult[])"/>: a cluster runs a
    /// multi-key script only when every key is in one slot, so one call per slot present. With <paramref name="markers"/>
    /// and the change feed on, each call carries a reply marker (apply_marked.lua: one SET more per call), so that
    /// sending the plan again after the connection broke appends no change to the feed twice. With the feed off no
    /// marker is made: a second run of a call writes the same values again and logs nothing.
    /// </summary>
    public WritePlan PlanWrite(IReadOnlyList<ProfileWrite> writes, bool markers)
    {
        var keys = new RedisKey[writes.Count];
        for (var i = 0; i < writes.Count; i++) keys[i] = ProfileKey(writes[i]);
        var groups = writes.Count == 0 ? [] : SlotGroups(keys);
        var calls = new WritePlan.Call[groups.Length];
        for (var g = 0; g < groups.Length; g++)
        {
            var first = writes[groups[g][0]];
            var marker = markers && _feed ? new ApplyCall(first.Client, layout.Partition(VisitorIds.TntBase(first.TntId))) : null;
            calls[g] = new WritePlan.Call(groups[g], marker);
        }
        return new WritePlan(writes, keys, calls);
    }

    /// <summary>
    /// Writes every entry of <paramref name="plan"/>; results[i] tells what happened to its writes[i]. Throws when the
    /// store fails. Called again with the same plan (a retry), it sends only the calls whose reply did not arrive, each
    /// as the same call (see <see cref="WritePlan"/>).
    /// </summary>
    public async Task WriteAsync(WritePlan plan, WriteResult[] results)
    {
        var (writes, calls) = (plan.Writes, plan.Calls);
        if (calls.Length == 0) return;
        var replies = new Task<WriteResult[]>[calls.Length];
        for (var c = 0; c < calls.Length; c++)
        {
            var call = calls[c];
            if (call.Reply is not { IsCompletedSuccessfully: true }) call.Reply = WriteGroupAsync(writes, plan.Keys, call.Members, call.Marker);
            replies[c] = call.Reply;
        }
        await Task.WhenAll(replies);
        foreach (var call in calls)
        {
            var written = call.Reply!.Result;
            for (var k = 0; k < written.Length; k++) results[call.Members[k]] = written[k];
        }
        if (_lifetime is not null) await RenewLinksAsync(writes, results);
    }

    /// <summary>
    /// Profiles:Lifetime: renews the expiry of every link of each profile just written (apply.lua and the bulk writes
    /// renew the hash's own). Two pipelined round trips — each profile's links (links.lua), then a PEXPIRE per link —
    /// paid only when a lifetime is set. A link outlives its hash by those round trips at most; a link whose profile is
    /// gone resolves to nothing, as everywhere.
    /// </summary>
    public async Task RenewLinksAsync(IReadOnlyList<ProfileWrite> writes, IReadOnlyList<WriteResult> results)
    {
        if (_lifetime is not { } lifetime) return;
        var db = store.Database;
        var reading = new List<(string Client, Task<RedisResult> Links)>(writes.Count);
        for (var i = 0; i < writes.Count; i++)
        {
            if (results[i] == WriteResult.ProfileNotFound) continue;
            reading.Add((writes[i].Client, scripts.Links.EvaluateAsync(db, [ProfileKey(writes[i])], [])));
        }
        await Task.WhenAll(reading.Select(r => r.Links));
        var renewing = new List<Task>();
        foreach (var (client, links) in reading)
        {
            var found = (RedisResult[])(await links)!;
            for (var j = 1; j < found.Length; j++)
                renewing.Add(db.KeyExpireAsync(RedisKeys.ThirdParty(client, (string)found[j]!), lifetime));
        }
        await Task.WhenAll(renewing);
    }

    /// <summary>
    /// Deletes a profile: its hash, every thirdPartyId link pointing to it (those its hash records, '_:3' included, plus
    /// <paramref name="viaThirdPartyId"/>, the link it was found through), and so everything keyed by it. Standalone Redis
    /// and the embedded store: one delete.lua call, atomic, after one read of the links (the script refuses, and names
    /// them, when a link was made in between). Redis Cluster: the links first (unlink.lua, compare-and-delete each), then
    /// the hash (delete.lua, refusing while it records a link not yet removed), so no link is ever left pointing to a
    /// deleted profile; a crash in between leaves a profile without links, which the same delete finishes when retried.
    /// </summary>
    public async Task<ProfileDeletion> DeleteAsync(string client, string tntId, string? viaThirdPartyId = null)
    {
        var db = store.Database;
        var tntBase = VisitorIds.TntBase(tntId);
        var hash = layout.Profile(client, tntBase);
        var ids = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (viaThirdPartyId is not null && seen.Add(viaThirdPartyId)) ids.Add(viaThirdPartyId);
        var recorded = (RedisResult[])(await scripts.Links.EvaluateAsync(db, [hash], []))!;
        for (var j = 1; j < recorded.Length; j++)
            if (seen.Add((string)recorded[j]!)) ids.Add((string)recorded[j]!);
        if ((int)recorded[0] == 0 && ids.Count == 0) return new ProfileDeletion(false, ids);

        var unlinked = 0; // on a cluster: the ids whose links were removed already
        for (var round = 0; ; round++)
        {
            RedisResult[] reply;
            if (!store.IsCluster)
            {
                var keys = new RedisKey[1 + ids.Count + (_feed ? 1 : 0)];
                keys[0] = hash;
                for (var j = 0; j < ids.Count; j++) keys[1 + j] = RedisKeys.ThirdParty(client, ids[j]);
                if (_feed) keys[^1] = layout.Log(client, tntBase);
                reply = (RedisResult[])(await scripts.Delete.EvaluateAsync(db, keys, DeleteArguments(tntBase, ids)))!;
            }
            else
            {
                // Each link hashes to its own slot: compare-and-delete them (pipelined) before the hash goes.
                var removing = new Task[ids.Count - unlinked];
                for (var j = unlinked; j < ids.Count; j++)
                    removing[j - unlinked] = scripts.Unlink.EvaluateAsync(db, [RedisKeys.ThirdParty(client, ids[j])], [tntBase]);
                await Task.WhenAll(removing);
                unlinked = ids.Count;
                // The hash and its partition's log share a slot, so the entry is still written in the delete's call.
                RedisKey[] keys = _feed ? [hash, layout.Log(client, tntBase)] : [hash];
                reply = (RedisResult[])(await scripts.Delete.EvaluateAsync(db, keys, DeleteArguments(tntBase, ids)))!;
            }
            if (_feed && (int)reply[0] == 1) ChangesAppended(client, 1);
            if ((int)reply[0] != 2) return new ProfileDeletion((int)reply[0] == 1, ids);
            if (round >= MaxDeleteRounds)
                throw new InvalidOperationException("A profile kept gaining thirdPartyId links while it was being deleted; retry the delete.");
            for (var j = 1; j < reply.Length; j++)
                if (seen.Add((string)reply[j]!)) ids.Add((string)reply[j]!);
        }

        RedisValue[] DeleteArguments(string tntBase, List<string> ids)
        {
            var args = new RedisValue[1 + ids.Count + (_feed ? 2 : 0)];
            args[0] = tntBase;
            for (var j = 0; j < ids.Count; j++) args[1 + j] = ids[j];
            if (_feed)
            {
                // The log's cap and the time of the entry (delete.lua logs a profile that existed as deleted).
                args[^2] = layout.LogCap;
                args[^1] = time.GetUtcNow().ToUnixTimeMilliseconds();
            }
            return args;
        }
    }

    /// <summary>Whether each profile exists (null: none to look for), in one pipelined round trip.</summary>
    public async Task<bool[]> ExistAsync(string client, IReadOnlyList<string?> tntIds)
    {
        var db = store.Database;
        var checks = tntIds.Select(t => t is null ? Task.FromResult(false) : db.KeyExistsAsync(layout.Profile(client, VisitorIds.TntBase(t)))).ToArray();
        return await Task.WhenAll(checks);
    }

    /// <summary>The tntId a thirdPartyId is linked to, read on the write connection (deletes: the freshest answer).</summary>
    public async Task<string?> ResolveForWriteAsync(string client, string thirdPartyId)
    {
        var value = await store.Database.StringGetAsync(RedisKeys.ThirdParty(client, thirdPartyId));
        return value.IsNull ? null : (string?)value;
    }

    /// <summary>The profile hash a write goes to.</summary>
    public RedisKey ProfileKey(ProfileWrite write) => layout.Profile(write.Client, VisitorIds.TntBase(write.TntId));

    /// <summary>The bytes of <paramref name="write"/>'s fields and values in an <see cref="ArgumentBytes"/>, for ASCII text.</summary>
    public static int ApplyArgumentBytes(ProfileWrite write, in WriteStamp stamp)
    {
        var length = 0;
        foreach (var attribute in write.Attributes) length += ArgumentBytes.Length(stamp, attribute.Name, attribute.Value);
        if (write.HasRemovals)
            foreach (var name in write.Removals!) length += ArgumentBytes.Length(stamp, name);
        if (CreatorArgument(write) is { } tag) length += stamp.ValuePrefix.Length + tag.Length;
        return length;
    }

    /// <summary>apply.lua arguments of a call before its entries': now, and with the change feed the log cap.</summary>
    public int ApplyCallArgumentCount => _feed ? 2 : 1;

    /// <summary>Writes a call's leading apply.lua arguments at <paramref name="a"/> (see <see cref="ApplyCallArgumentCount"/>).</summary>
    public void AddApplyCallArguments(RedisValue[] args, ref int a, in WriteStamp stamp)
    {
        args[a++] = stamp.Now;
        if (_feed) args[a++] = layout.LogCap;
    }

    /// <summary>Number of apply.lua arguments <see cref="AddApplyArguments"/> writes for <paramref name="write"/>.</summary>
    public int ApplyArgumentCount(ProfileWrite write) =>
        (write.Mode == WriteMode.CreateIfMissing ? 3 : 2) + FieldArgumentCount(write) +
        (write.HasRemovals ? 1 + write.Removals!.Count : 0) + (CreatorArgument(write) is null ? 0 : 1) + (_feed ? 1 : 0);

    /// <summary>Number of apply.lua keys per write: the profile hash, and with the change feed its client's log.</summary>
    public int ApplyKeysPerWrite => _feed ? 2 : 1;

    /// <summary>Writes one write's apply.lua keys at <paramref name="k"/> (see <see cref="ApplyKeysPerWrite"/>).</summary>
    public void AddApplyKeys(RedisKey[] keys, ref int k, ProfileWrite write)
    {
        if (!_feed)
        {
            keys[k++] = ProfileKey(write);
            return;
        }
        (keys[k], keys[k + 1]) = layout.ProfileAndLog(write.Client, VisitorIds.TntBase(write.TntId));
        k += 2;
    }

    /// <summary>
    /// apply.lua's answer, with the change feed on, for a write that applied but only removed attributes and found none
    /// of them: it changed nothing the feed shows, so it has no entry. Only <see cref="CountChanges"/> sees it: it turns
    /// it into <see cref="WriteResult.Applied"/> (to the caller the write applied, as any removal of an absent attribute).
    /// </summary>
    private const WriteResult AppliedWithoutEntry = (WriteResult)3;

    /// <summary>
    /// Change feed: counts the entries apply.lua appended for these writes (the same rule as the script's): results[r]
    /// belongs to the r-th write that is not null. One counter update per run of one client's writes, not one per entry.
    /// Every result the script gave as <see cref="AppliedWithoutEntry"/> becomes <see cref="WriteResult.Applied"/> here,
    /// so it must be called on every apply.lua answer with the feed on.
    /// </summary>
    public void CountChanges(IReadOnlyList<ProfileWrite?> writes, WriteResult[] results)
    {
        string? client = null;
        long count = 0;
        var r = 0;
        for (var i = 0; i < writes.Count && r < results.Length; i++)
        {
            if (writes[i] is not { } write) continue;
            var result = results[r++];
            if (result == AppliedWithoutEntry)
            {
                results[r - 1] = WriteResult.Applied;
                continue;
            }
            if (metrics is null && appended is null) continue;
            if (result != WriteResult.Created && (result != WriteResult.Applied || !ChangeEntries.ChangesAttributes(write))) continue;
            if (client is not null && !string.Equals(client, write.Client, StringComparison.Ordinal))
            {
                ChangesAppended(client, count);
                count = 0;
            }
            client = write.Client;
            count++;
        }
        if (count > 0) ChangesAppended(client!, count);
    }

    /// <summary>Entries a completed write appended to a client's log: counted, and this instance's streams woken.</summary>
    private void ChangesAppended(string client, long count)
    {
        metrics?.ChangesWritten(client, count);
        appended?.Appended(client);
    }

    /// <summary>The creation tag a write sends to apply.lua: only one that may create (an update-only write creates nothing).</summary>
    private static string? CreatorArgument(ProfileWrite write) => write.Mode == WriteMode.CreateIfMissing ? write.CreationTag : null;

    private static int FieldArgumentCount(ProfileWrite write) =>
        2 * ((write.ThirdPartyId is null ? 0 : 2) + write.Attributes.Count);

    /// <summary>
    /// Writes one entry's apply.lua arguments at <paramref name="a"/>: mode, the tntId only when the write may create
    /// the profile (mode 'c'/'cr'/'cb'/'crb'), m, then m ready field/value arguments ('_:3' and the link's
    /// '_:l:&lt;thirdPartyId&gt;' when known, 'a:&lt;name&gt;' → '&lt;ms&gt;:&lt;value&gt;'), then, only for a write
    /// with removals (mode 'ur'/'cr'/'crb'), r and the r 'a:&lt;name&gt;' fields to delete, then, only for a bulk v2
    /// write with its creation tag (mode 'cb'/'crb'), the '_:c' it sets if it creates the profile,
    /// '&lt;ms&gt;:&lt;batchId&gt;:&lt;line&gt;'. Built here rather than in the
    /// script: string building in Lua cost Redis more per update than the writes (see apply.lua). '_:m' is not sent:
    /// the script sets it from the call's own time, and an update-only write sends no tntId it would never use — every
    /// argument costs Redis a Lua string (measured with run-redis-floor.sh: see docs/performance.md). The mode carries
    /// Profiles:Lifetime when one is set.
    /// </summary>
    public void AddApplyArguments(RedisValue[] args, ref int a, ProfileWrite write, in WriteStamp stamp, ArgumentBytes bytes)
    {
        var removes = write.HasRemovals;
        var tag = CreatorArgument(write);
        if (write.Mode == WriteMode.CreateIfMissing)
        {
            args[a++] = tag is null ? removes ? _createRemoveMode : _createMode : removes ? _createRemoveTaggedMode : _createTaggedMode;
            args[a++] = write.TntId;
        }
        else
        {
            args[a++] = removes ? _updateRemoveMode : _updateMode;
        }
        args[a++] = FieldArgumentCount(write);
        if (write.ThirdPartyId is { } thirdParty)
        {
            args[a++] = RedisKeys.FieldThirdPartyId;
            args[a++] = thirdParty;
            args[a++] = string.Concat(RedisKeys.FieldLinkPrefix, thirdParty);
            args[a++] = RedisValue.EmptyString;
        }
        foreach (var attribute in write.Attributes)
        {
            args[a++] = bytes.Field(attribute.Name);
            args[a++] = bytes.Value(attribute.Value);
        }
        if (removes)
        {
            args[a++] = write.Removals!.Count;
            foreach (var name in write.Removals) args[a++] = bytes.Field(name);
        }
        // Mode 'cb'/'crb': '_:c' as the entry sets it if it creates the profile, "<ms>:<batchId>:<line>".
        if (tag is not null) args[a++] = bytes.Value(tag);
        if (_feed) args[a++] = ChangeEntries.Element(write, stamp);
    }

    /// <summary>
    /// One apply.lua call for <paramref name="members"/> of <paramref name="writes"/>, or apply_marked.lua when it has a
    /// <paramref name="marker"/> (its key and two arguments, the marker's lifetime and the retry flag, go first). Returns
    /// the members' results in order, their change-feed entries counted (<see cref="CountChanges"/>).
    /// </summary>
    private async Task<WriteResult[]> WriteGroupAsync(IReadOnlyList<ProfileWrite> writes, RedisKey[] allKeys, int[] members, ApplyCall? marker)
    {
        var lead = marker is null ? 0 : 1;
        var keys = new RedisKey[lead + members.Length * ApplyKeysPerWrite];
        var stamp = WriteStamp.At(time);
        var argCount = 3 * lead + ApplyCallArgumentCount;
        var byteCount = 0;
        foreach (var m in members)
        {
            argCount += ApplyArgumentCount(writes[m]);
            byteCount += ApplyArgumentBytes(writes[m], stamp);
        }
        var args = new RedisValue[argCount];
        var bytes = new ArgumentBytes(stamp, byteCount);
        var a = 0;
        var key = 0;
        if (marker is not null)
        {
            keys[key++] = marker.MarkerKey;
            args[a++] = store.RetryWindowMs;
            args[a++] = marker.NextSend();
            args[a++] = marker.MarkerField;
        }
        AddApplyCallArguments(args, ref a, stamp);
        var written = _feed ? new ProfileWrite[members.Length] : null;
        for (var k = 0; k < members.Length; k++)
        {
            var write = writes[members[k]];
            if (written is not null) written[k] = write;
            if (_feed) AddApplyKeys(keys, ref key, write);
            else keys[key++] = allKeys[members[k]];
            AddApplyArguments(args, ref a, write, stamp, bytes);
        }

        var reply = await (marker is null ? scripts.Apply : scripts.ApplyMarked).EvaluateAsync(store.Database, keys, args);
        // A string: the results a first run stored in the marker (its reply was lost); they are counted here for the
        // first time, as nobody counted that reply.
        var results = reply.Resp2Type == ResultType.BulkString ? StoredResults((string)reply!) : Results((RedisResult[])reply!, 0);
        if (written is not null) CountChanges(written, results);
        return results;
    }

    /// <summary>Write results as apply.lua returns them, from <paramref name="first"/> on.</summary>
    internal static WriteResult[] Results(RedisResult[] numbers, int first)
    {
        var results = new WriteResult[numbers.Length - first];
        for (var i = 0; i < results.Length; i++) results[i] = (WriteResult)(int)numbers[first + i];
        return results;
    }

    /// <summary>Write results as a reply marker stores them (apply_marked.lua, quota_apply.lua): one digit per entry.</summary>
    internal static WriteResult[] StoredResults(ReadOnlySpan<char> digits)
    {
        var results = new WriteResult[digits.Length];
        for (var i = 0; i < results.Length; i++) results[i] = (WriteResult)(digits[i] - '0');
        return results;
    }

    /// <summary>For the read API: on the read connection.</summary>
    public async Task<ProfileDocument?> ReadAsync(string client, string tntId)
    {
        await store.WaitForReadsAsync();
        var entries = await store.ReadDatabase.HashGetAllAsync(layout.Profile(client, VisitorIds.TntBase(tntId)));
        if (entries.Length == 0) return null;

        string? storedTnt = null, thirdParty = null;
        long created = 0, modified = 0;
        var attributes = new SortedDictionary<string, (string, DateTimeOffset)>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            var field = (string)entry.Name!;
            switch (field)
            {
                case RedisKeys.FieldTntId: storedTnt = entry.Value; break;
                case RedisKeys.FieldThirdPartyId: thirdParty = entry.Value; break;
                case RedisKeys.FieldCreated: created = CreatedMs(entry.Value); break;
                case RedisKeys.FieldModified: modified = (long)entry.Value; break;
                default:
                    if (field.StartsWith(RedisKeys.AttributePrefix, StringComparison.Ordinal))
                    {
                        var stored = (string)entry.Value!;
                        var colon = stored.IndexOf(':', StringComparison.Ordinal);
                        var ms = long.Parse(stored.AsSpan(0, colon), CultureInfo.InvariantCulture);
                        attributes[field[RedisKeys.AttributePrefix.Length..]] = (stored[(colon + 1)..], FromMs(ms));
                    }
                    break;
            }
        }
        if (storedTnt is null) return null; // not a profile created through this service

        return new ProfileDocument(storedTnt, thirdParty, FromMs(created), FromMs(modified), attributes);
    }

    private static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    internal static string FormatTimestamp(DateTimeOffset value) =>
        value.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);
}
