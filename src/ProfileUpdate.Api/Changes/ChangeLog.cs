using System.Globalization;
using System.Text.Json;
using ProfileUpdate.Api.Store;
using StackExchange.Redis;

namespace ProfileUpdate.Api.Changes;

/// <summary>What a read of the log found.</summary>
/// <param name="Entries">The page, oldest first, each with its sequence number.</param>
/// <param name="OutOfRange">The position asked for is no longer (or not) in the log: trimmed away, or the log was reset.</param>
/// <param name="First">The oldest retained position (0: empty log).</param>
/// <param name="Last">The newest position (0: empty log).</param>
/// <param name="Oldest">The oldest retained entry, given when <paramref name="OutOfRange"/>.</param>
public sealed record ChangeRead(IReadOnlyList<(long Sequence, ChangeEntry Entry)> Entries, bool OutOfRange, long First, long Last, ChangeEntry? Oldest);

/// <summary>
/// Reads a client's change log (the list the write scripts append to, see feed.lua) on the read connection: one script
/// call per page, so the page and the positions it reports are one consistent view. Entries hold attribute values: they
/// are never logged.
/// </summary>
public sealed class ChangeLog(StoreConnections store, ScriptCatalog scripts)
{
    private static readonly JsonSerializerOptions BodyOptions = new(JsonSerializerDefaults.Web);

    /// <param name="after">The position to read after; null: from the oldest retained.</param>
    public async Task<ChangeRead> ReadAsync(string client, long? after, int limit)
    {
        await store.WaitForReadsAsync();
        var reply = (RedisResult[])(await scripts.ChangesRead.EvaluateAsync(store.ReadDatabase, [RedisKeys.ChangeLog(client)], [after ?? -1, limit]))!;
        var first = (long)reply[0];
        var last = (long)reply[1];
        var outOfRange = after is { } a && first > 0 && (a < first - 1 || a > last) || after is > 0 && first == 0;
        if (outOfRange)
            return new ChangeRead([], true, first, last, reply.Length > 2 ? Parse((string)reply[2]!).Entry : null);
        var entries = new (long, ChangeEntry)[reply.Length - 2];
        for (var i = 0; i < entries.Length; i++) entries[i] = Parse((string)reply[2 + i]!);
        return new ChangeRead(entries, false, first, last, null);
    }

    /// <summary>An element "&lt;seq&gt;&lt;kind&gt;&lt;epoch ms&gt;&lt;flag&gt;&lt;body&gt;" (see feed.lua) as an entry.</summary>
    internal static (long Sequence, ChangeEntry Entry) Parse(string element)
    {
        var i = 0;
        while (char.IsAsciiDigit(element[i])) i++;
        var sequence = long.Parse(element.AsSpan(0, i), CultureInfo.InvariantCulture);
        var kind = element[i++];
        var start = i;
        while (char.IsAsciiDigit(element[i])) i++;
        var at = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(element.AsSpan(start, i - start), CultureInfo.InvariantCulture))
            .ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);
        var body = element.AsSpan(i + 1); // after the flag
        var id = ChangeCursor.Encode(sequence);
        if (kind == 'd')
        {
            var tab = body.IndexOf('\t');
            var thirdParty = body[(tab + 1)..];
            return (sequence, new ChangeEntry(id, at, "deleted", body[..tab].ToString(), thirdParty.IsEmpty ? null : thirdParty.ToString(),
                new Dictionary<string, string>(), []));
        }
        var written = JsonSerializer.Deserialize<WrittenBody>(body, BodyOptions)!;
        return (sequence, new ChangeEntry(id, at, kind == 'c' ? "created" : "updated", written.TntId, written.ThirdPartyId,
            written.Set ?? new Dictionary<string, string>(), written.Removed ?? []));
    }

    /// <summary>The JSON the service wrote for an entry (Profiles/ChangeEntries).</summary>
    private sealed record WrittenBody(string TntId, string? ThirdPartyId, Dictionary<string, string>? Set, string[]? Removed);
}
