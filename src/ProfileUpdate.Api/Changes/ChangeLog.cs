using System.Globalization;
using System.Text.Json;
using ProfileUpdate.Api.Store;
using StackExchange.Redis;

namespace ProfileUpdate.Api.Changes;

/// <summary>Why a cursor cannot be read from: the entries after it are not (or no longer) in the logs.</summary>
public enum ChangeGap
{
    /// <summary>The cursor can be read from.</summary>
    None,

    /// <summary>Entries after the cursor were trimmed away (the log keeps the newest MaxEntriesPerClient only).</summary>
    Trimmed,

    /// <summary>
    /// The cursor was made for an earlier incarnation of the logs: a log it read from was lost (a store restarted without
    /// persistence, its key deleted) and started anew, or is gone. Its positions mean nothing in the new log.
    /// </summary>
    Reset,

    /// <summary>
    /// The cursor is past the newest entry of a log of the same identity: the log lost its newest entries (a failover to
    /// a replica that had not received them), or the cursor was not made for this client's feed.
    /// </summary>
    Ahead,
}

/// <summary>What a read of a client's change logs found.</summary>
/// <param name="Entries">The page, oldest first; each entry's id is the cursor just after it.</param>
/// <param name="Next">The position after the page (the cursor to continue from).</param>
/// <param name="More">Entries after the page may already be there: read again at once rather than after a pause.</param>
/// <param name="Gap">Why the position asked for cannot be read from, or <see cref="ChangeGap.None"/>.</param>
/// <param name="Oldest">The oldest retained entry of the logs trimmed past the cursor, given for <see cref="ChangeGap.Trimmed"/>.</param>
public sealed record ChangeRead(IReadOnlyList<ChangeEntry> Entries, ChangePosition Next, bool More, ChangeGap Gap, ChangeEntry? Oldest)
{
    public bool OutOfRange => Gap != ChangeGap.None;
}

/// <summary>
/// Reads a client's change logs (the lists the write scripts append to, see feed.lua) on the read connection. One log
/// (standalone Redis, the embedded store): one script call per page, so page and positions are one consistent view. On
/// Redis Cluster a client has one log per partition: every log is read (pipelined, one call each) and the pages are
/// merged by entry time. Entries hold attribute values: they are never logged.
/// </summary>
public sealed class ChangeLog(StoreConnections store, ScriptCatalog scripts, ProfileLayout layout)
{
    private static readonly JsonSerializerOptions BodyOptions = new(JsonSerializerDefaults.Web);

    /// <summary>Positions in a cursor of this store (1, or one per partition on Redis Cluster).</summary>
    public int Logs => layout.LogPartitions;

    /// <summary>
    /// Settles <see cref="Logs"/>: until the store has answered once since start, it is not known whether it is a cluster
    /// (one log per partition) or not (one log), so a cursor cannot be judged. Waits for the store as a write does
    /// (bounded by Store:ReconnectGrace); false when it has still not answered.
    /// </summary>
    public async ValueTask<bool> SettleLogsAsync()
    {
        if (store.IsClusterKnown) return true;
        await store.WaitForWritesAsync();
        return store.IsClusterKnown;
    }

    /// <param name="after">The position to read after; null: from the oldest retained.</param>
    public async Task<ChangeRead> ReadAsync(string client, ChangePosition? after, int limit)
    {
        await store.WaitForReadsAsync();
        var logs = after?.Positions.Length ?? Logs;
        // Each log gives at most per[n] entries: with many logs, twice a fair share (at least 8) rather than 'limit' each,
        // so a page costs about twice what it returns. When that leaves the page short because changes sit in a few
        // logs, those logs are read again with their share of the whole page (one more round trip). The merge keeps the
        // order exact whatever was cut.
        var per = new int[logs];
        Array.Fill(per, logs == 1 ? limit : Math.Min(limit, Math.Max(8, (2 * limit + logs - 1) / logs)));
        var logsRead = new LogRead[logs];
        await ReadLogsAsync(client, after?.Positions, per, logsRead, Enumerable.Range(0, logs));
        if (Gap(after, logsRead) is { } gap) return gap;

        var page = Merge(logsRead, limit);
        var cut = Enumerable.Range(0, logs).Where(n => logsRead[n].Cut).ToList();
        if (page.Entries.Count < limit && cut.Count > 0 && logs > 1)
        {
            foreach (var n in cut) per[n] = Math.Min(limit, Math.Max(2 * per[n], (2 * limit + cut.Count - 1) / cut.Count));
            await ReadLogsAsync(client, after?.Positions, per, logsRead, cut);
            // A log reset or trimmed between the two reads: the first read's page stands (the next read reports it).
            if (Gap(after, logsRead) is null) page = Merge(logsRead, limit);
        }
        return page;
    }

    /// <summary>
    /// Why <paramref name="after"/> cannot be read from in the logs read, or null when it can. A cursor whose logs have
    /// another identity is judged first: its positions say nothing about the logs there now.
    /// </summary>
    private static ChangeRead? Gap(ChangePosition? after, LogRead[] logsRead)
    {
        if (after is null) return null;
        var identities = logsRead.Select(r => r.Identity).ToArray();
        if (ChangeCursor.Identity(after.Positions, identities) != after.Identity) return Gone(after, ChangeGap.Reset, null);
        if (logsRead.Any(r => r.Ahead)) return Gone(after, ChangeGap.Ahead, null);
        if (!logsRead.Any(r => r.Trimmed)) return null;
        // Say how far back the logs reach: the oldest entry kept in a log the cursor was trimmed out of, with the cursor
        // of the position just before it, every trimmed log moved to just before its oldest entry (so that cursor reads).
        var positions = (long[])after.Positions.Clone();
        Element? oldest = null;
        for (var n = 0; n < logsRead.Length; n++)
        {
            if (logsRead[n].Head is not { } head) continue;
            positions[n] = head.Seq - 1;
            if (oldest is null || head.Ms < oldest.Value.Ms) oldest = head;
        }
        var before = ChangeCursor.Encode(positions, ChangeCursor.Identity(positions, identities));
        return Gone(after, ChangeGap.Trimmed, oldest?.ToEntry(before));
    }

    private static ChangeRead Gone(ChangePosition after, ChangeGap gap, ChangeEntry? oldest) => new([], after, false, gap, oldest);

    /// <summary>
    /// What one log gave: its page after the position asked for, or that the position is out of its range (trimmed
    /// away: <paramref name="Head"/> is the oldest entry kept; or past its newest entry), and the log's identity.
    /// </summary>
    private readonly record struct LogRead(long Position, List<Element> Page, bool Cut, bool Trimmed, bool Ahead, Element? Head, ulong Identity);

    /// <summary>Reads the logs <paramref name="which"/> (pipelined, one call each: on a cluster each is in its own slot).</summary>
    private async Task ReadLogsAsync(string client, long[]? after, int[] per, LogRead[] into, IEnumerable<int> which)
    {
        var reading = which.Select(n => (N: n, Reply: scripts.ChangesRead.EvaluateAsync(store.ReadDatabase, [RedisKeys.ChangeLog(client, n)],
            [per[n], after?[n] ?? -1]))).ToList();
        await Task.WhenAll(reading.Select(r => r.Reply));
        foreach (var (n, task) in reading)
        {
            var reply = (RedisResult[])((RedisResult[])(await task)!)[0]!;
            var first = (long)reply[0];
            var last = (long)reply[1];
            var identity = ChangeCursor.LogIdentity(n, first == 0 ? null : (string)reply[2]!);
            long? a = after?[n];
            if (a is { } x && first > 0 && (x < first - 1 || x > last))
            {
                var trimmed = x < first - 1;
                into[n] = new LogRead(0, [], false, trimmed, !trimmed, trimmed ? Parse((string)reply[3]!, first) : null, identity);
                continue;
            }
            var position = a ?? Math.Max(0, first - 1);
            var page = new List<Element>(reply.Length - 3);
            for (var i = 3; i < reply.Length; i++) page.Add(Parse((string)reply[i]!, position + i - 2));
            into[n] = new LogRead(position, page, page.Count == per[n] && last > position + per[n], false, false, null, identity);
        }
    }

    /// <summary>
    /// The logs' pages merged by (time, log): within a log the time never goes back (feed.lua), so this keeps each log's
    /// own order. A log whose page was cut may hold entries not fetched, later than its last fetched one: the page stops at
    /// the earliest such time, so what it returns is the exact time order of all the logs hold up to there.
    /// </summary>
    private static ChangeRead Merge(LogRead[] logsRead, int limit)
    {
        var logs = logsRead.Length;
        var positions = new long[logs];
        var bound = long.MaxValue;
        var heads = new PriorityQueue<int, (long Ms, int Log)>();
        for (var n = 0; n < logs; n++)
        {
            positions[n] = logsRead[n].Position;
            if (logsRead[n].Cut) bound = Math.Min(bound, logsRead[n].Page.Max(e => e.Ms));
            if (logsRead[n].Page.Count > 0) heads.Enqueue(n, (logsRead[n].Page[0].Ms, n));
        }
        var identities = logsRead.Select(r => r.Identity).ToArray();
        var identity = ChangeCursor.Identity(positions, identities);
        var entries = new List<ChangeEntry>(Math.Min(limit, logsRead.Sum(r => r.Page.Count)));
        var next = new int[logs];
        while (entries.Count < limit && heads.TryPeek(out var n, out var at) && at.Ms <= bound)
        {
            heads.Dequeue();
            var page = logsRead[n].Page;
            var element = page[next[n]++];
            if (positions[n] == 0) identity ^= identities[n]; // the cursor now reads from this log: it carries its identity
            positions[n] = element.Seq;
            entries.Add(element.ToEntry(ChangeCursor.Encode(positions, identity)));
            if (next[n] < page.Count) heads.Enqueue(n, (page[next[n]].Ms, n));
        }
        return new ChangeRead(entries, new ChangePosition(positions, identity), heads.Count > 0 || logsRead.Any(r => r.Cut), ChangeGap.None, null);
    }

    /// <summary>An element "&lt;kind&gt;&lt;epoch ms&gt;&lt;flag&gt;&lt;body&gt;" (see feed.lua) at a position of its log.</summary>
    private static Element Parse(string element, long sequence)
    {
        var i = 0;
        var kind = element[i++];
        var start = i;
        while (char.IsAsciiDigit(element[i])) i++;
        var ms = long.Parse(element.AsSpan(start, i - start), CultureInfo.InvariantCulture);
        return new Element(sequence, ms, kind, element[(i + 1)..]); // the body follows the flag
    }

    /// <summary>One parsed log element; its body is decoded only when the entry is returned.</summary>
    private readonly record struct Element(long Seq, long Ms, char Kind, string Body)
    {
        public ChangeEntry ToEntry(string id)
        {
            var at = DateTimeOffset.FromUnixTimeMilliseconds(Ms).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);
            if (Kind == 'd')
            {
                var tab = Body.IndexOf('\t', StringComparison.Ordinal);
                var thirdParty = Body[(tab + 1)..];
                return new ChangeEntry(id, at, "deleted", Body[..tab], thirdParty.Length == 0 ? null : thirdParty, new Dictionary<string, string>(), []);
            }
            var written = JsonSerializer.Deserialize<WrittenBody>(Body, BodyOptions)!;
            return new ChangeEntry(id, at, Kind == 'c' ? "created" : "updated", written.TntId, written.ThirdPartyId,
                written.Set ?? new Dictionary<string, string>(), written.Removed ?? []);
        }
    }

    /// <summary>The JSON the service wrote for an entry (Profiles/ChangeEntries).</summary>
    private sealed record WrittenBody(string TntId, string? ThirdPartyId, Dictionary<string, string>? Set, string[]? Removed);
}
