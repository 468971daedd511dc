using System.Globalization;
using ProfileUpdate.Api.Store;
using StackExchange.Redis;

namespace ProfileUpdate.Api.Bulk;

/// <summary>
/// Batch status in Redis, kept for <c>ProfileUpdate:Bulk:StatusRetention</c> after the batch completes: one hash of
/// counters, checkpoint and lease, and one hash of the first 1,000 failed rows keyed by row number, both under the
/// batch's hash tag (one slot), so a chunk's progress is recorded in one atomic script call (record_chunk.lua).
/// </summary>
/// <remarks>
/// Until the batch completes its records expire <see cref="OpenRetention"/> after the last sign of life of the instance
/// holding it — acceptance, each recorded chunk, each lease renewal (every quarter of the lease timeout, for queued
/// batches too) — rather than never: a batch whose instance is gone for good (or whose spool file was lost) then shows
/// <c>stuck</c> for StatusRetention and goes, instead of staying in the store forever. The renewals come far more often
/// than that expiry, so the record of a batch that is still to finish never expires under it (the status of a batch
/// queued behind a long one was lost that way, and the batch with it); if its instance was down for longer, the
/// applier restores the record from the spool file (<see cref="BulkProcessor"/>).
/// </remarks>
public sealed class BatchStatusRepository(StoreConnections store, ScriptCatalog scripts, IOptions<ProfileUpdateOptions> options, TimeProvider time)
{
    public const int MaxFailuresKept = 1000;

    // A minute's counter outlives its minute a little, for clocks of instances that disagree by seconds.
    private const int SubmissionKeySeconds = 120;

    private readonly BulkOptions _options = options.Value.Bulk;

    private static string Key(string client, string batchId) => $"pu:b:{{{client}:{batchId}}}";

    private static string FailuresKey(string client, string batchId) => $"pu:bf:{{{client}:{batchId}}}";

    /// <summary>
    /// How long the records of a batch not yet complete are kept after its instance last renewed them: the retention
    /// plus the lease timeout, so a batch that stopped is reported <c>stuck</c> (once its lease lapses) for the whole
    /// retention, and a renewal (every quarter of the lease timeout) always comes well before the expiry.
    /// </summary>
    private TimeSpan OpenRetention => _options.StatusRetention + _options.LeaseTimeout;

    /// <summary>
    /// Records an accepted batch as queued, owned by <paramref name="owner"/>, checkpoint at the file's start (also a
    /// batch whose record was gone when its spool file came to be applied: it starts again from the top).
    /// </summary>
    public async Task CreateAsync(string client, string batchId, long batchSize, string owner, bool erase = false)
    {
        var db = store.Database;
        var key = Key(client, batchId);
        var tx = db.CreateTransaction();
        HashEntry[] fields =
        [
            new("status", "incomplete"), new("batchSize", batchSize), new("consumed", 0), new("successful", 0),
            new("notFound", 0), new("failed", 0), new("created", 0), new("updatedAt", Now()),
            new("offset", 0), new("row", 0), new("owner", owner), new("leaseUntil", LeaseUntil()),
        ];
        _ = tx.HashSetAsync(key, erase ? [.. fields, new("kind", "erase")] : fields);
        _ = tx.KeyExpireAsync(key, OpenRetention);
        await tx.ExecuteAsync();
    }

    /// <summary>The checkpoint to resume from; null when the batch is unknown (its record expired or was never made).</summary>
    public async Task<BatchCheckpoint?> ReadCheckpointAsync(string client, string batchId)
    {
        var values = await store.Database.HashGetAsync(Key(client, batchId), ["offset", "row", "status"]);
        if (values[0].IsNull) return null;
        return new BatchCheckpoint((long)values[0], (long)values[1], values[2] == "complete");
    }

    /// <summary>
    /// Adds one applied chunk's counts and failed rows and moves the checkpoint from <paramref name="from"/> to
    /// <paramref name="to"/>, atomically. False when the checkpoint was not at <paramref name="from"/> (the chunk was
    /// recorded before: re-applied after a crash), in which case nothing is counted.
    /// </summary>
    public async Task<bool> RecordChunkAsync(string client, string batchId, long from, BatchCheckpoint to, BatchCounts delta,
        IReadOnlyList<BatchFailure> failures, string owner)
    {
        var args = new RedisValue[14 + 2 * failures.Count];
        args[0] = from;
        args[1] = to.Offset;
        args[2] = to.Row;
        args[3] = delta.Consumed;
        args[4] = delta.Successful;
        args[5] = delta.NotFound;
        args[6] = delta.Failed;
        args[7] = delta.Created;
        args[8] = to.Complete ? "1" : "0";
        args[9] = Now();
        args[10] = LeaseUntil();
        args[11] = owner;
        args[12] = (long)(to.Complete ? _options.StatusRetention : OpenRetention).TotalSeconds;
        args[13] = MaxFailuresKept;
        for (var i = 0; i < failures.Count; i++)
        {
            args[14 + 2 * i] = failures[i].Row;
            // Tab separates the stored fields, so a tab inside a (failed, hence arbitrary) id is replaced.
            args[15 + 2 * i] = $"{failures[i].Id?.Replace('\t', '\uFFFD') ?? string.Empty}\t{failures[i].Message}";
        }
        var recorded = await scripts.RecordChunk.EvaluateAsync(store.Database, [Key(client, batchId), FailuresKey(client, batchId)], args);
        return (long)recorded == 1;
    }

    /// <summary>
    /// Renews the lease of batches this instance holds (queued or running) and the expiry of their records, in one
    /// pipelined round trip; a record that is gone or complete is left as it is (renew_lease.lua).
    /// </summary>
    public async Task RenewLeasesAsync(IEnumerable<(string Client, string BatchId)> batches, string owner)
    {
        var db = store.Database;
        RedisValue[] args = [LeaseUntil(), owner, (long)OpenRetention.TotalSeconds];
        var renewals = batches.Select(b => scripts.RenewLease.EvaluateAsync(db,
            [Key(b.Client, b.BatchId), FailuresKey(b.Client, b.BatchId), ErasureJournalKey(b.Client, b.BatchId)], args)).ToArray();
        await Task.WhenAll(renewals);
    }

    public async Task<BatchStatusView?> ReadAsync(string client, string batchId, bool withFailures)
    {
        // On the read connection, as profile reads: Redis answers a connection's commands in order, so on the write
        // connection a status read waited behind every update and lease renewal sent before it, and timed out (503) while
        // Redis held writes (CLIENT PAUSE WRITE during a failover). Sound because every status write has been answered
        // before anything that reports it (the POST's 200, a completion): a read sent after that sees it on any connection.
        await store.WaitForReadsAsync();
        var db = store.ReadDatabase;
        var fields = await db.HashGetAllAsync(Key(client, batchId));
        if (fields.Length == 0) return null;
        var map = fields.ToDictionary(f => (string)f.Name!, f => f.Value);
        long Get(string name) => map.TryGetValue(name, out var v) && v.TryParse(out long n) ? n : 0;

        var status = (string?)map.GetValueOrDefault("status") ?? "incomplete";
        string? message = null;
        var leaseUntil = Get("leaseUntil");
        if (status == "incomplete" && leaseUntil < Now())
        {
            status = "stuck";
            message = $"Batch {batchId} stopped making progress: the instance applying it has not renewed its lease since " +
                $"{DateTimeOffset.FromUnixTimeMilliseconds(leaseUntil - (long)_options.LeaseTimeout.TotalMilliseconds):yyyy-MM-dd'T'HH:mm:ss'Z'} " +
                $"and no instance has resumed it. Rows applied so far stay applied; resubmit the file (rows are idempotent sets).";
        }

        var failures = new List<BatchFailure>();
        if (withFailures)
        {
            foreach (var entry in await db.HashGetAllAsync(FailuresKey(client, batchId)))
            {
                var parts = ((string)entry.Value!).Split('\t', 2);
                failures.Add(new BatchFailure((long)entry.Name, parts[0].Length == 0 ? null : parts[0], parts[1]));
            }
            failures.Sort((x, y) => x.Row.CompareTo(y.Row));
        }
        return new BatchStatusView(batchId, status,
            new BatchCounts(Get("batchSize"), Get("consumed"), Get("successful"), Get("notFound"), Get("failed"), Get("created")), failures, message,
            Erase: map.GetValueOrDefault("kind") == "erase");
    }

    private static string ErasureJournalKey(string client, string batchId) => $"pu:be:{{{client}:{batchId}}}";

    /// <summary>
    /// Bulk erase: notes, before a chunk's deletes, the rows whose profile exists (by line number), so that a chunk
    /// re-applied after a crash can tell a row it deleted itself — found missing the second time — from a row whose profile
    /// never existed, and the counts stay those of an uninterrupted run. Kept as long as the status, and cleared per chunk
    /// once the chunk is recorded; its expiry is the status's while the batch runs (renewed with each chunk and lease).
    /// </summary>
    public async Task JournalErasuresAsync(string client, string batchId, IReadOnlyList<long> lines)
    {
        if (lines.Count == 0) return;
        var db = store.Database;
        var key = ErasureJournalKey(client, batchId);
        var setting = db.HashSetAsync(key, lines.Select(l => new HashEntry(l, 1)).ToArray());
        var expiring = db.KeyExpireAsync(key, OpenRetention);
        await Task.WhenAll(setting, expiring);
    }

    /// <summary>Which of <paramref name="lines"/> the erasure journal holds (rows whose profile existed before a crash).</summary>
    public async Task<bool[]> JournaledErasuresAsync(string client, string batchId, IReadOnlyList<long> lines)
    {
        if (lines.Count == 0) return [];
        var values = await store.Database.HashGetAsync(ErasureJournalKey(client, batchId), lines.Select(l => (RedisValue)l).ToArray());
        return values.Select(v => !v.IsNull).ToArray();
    }

    /// <summary>Clears a recorded chunk's rows from the erasure journal (and the journal itself with the last chunk).</summary>
    public Task ForgetErasuresAsync(string client, string batchId, IReadOnlyList<long> lines, bool complete)
    {
        var db = store.Database;
        var key = ErasureJournalKey(client, batchId);
        if (complete) return db.KeyDeleteAsync(key);
        return lines.Count == 0 ? Task.CompletedTask : db.HashDeleteAsync(key, lines.Select(l => (RedisValue)l).ToArray());
    }

    /// <summary>
    /// Counts one submission in the client's current minute (fixed one-minute windows); returns the count, this one
    /// included, and the counter's key for <see cref="RefundSubmissionAsync"/>.
    /// </summary>
    public async Task<(long Count, int SecondsLeft, string Key)> CountSubmissionAsync(string client)
    {
        var now = time.GetUtcNow();
        var minute = now.ToUnixTimeSeconds() / 60;
        var key = $"pu:bs:{{{client}}}:{minute.ToString(CultureInfo.InvariantCulture)}";
        var count = (long)await scripts.CountSubmission.EvaluateAsync(store.Database, [key], [SubmissionKeySeconds]);
        return (count, (int)(60 - now.ToUnixTimeSeconds() % 60), key);
    }

    /// <summary>
    /// Gives back a submission counted by <see cref="CountSubmissionAsync"/> (under its <paramref name="key"/>: the minute
    /// it was counted in) that was refused. Best effort: with the store unavailable the count stays, and goes with its minute.
    /// </summary>
    public async Task RefundSubmissionAsync(string key)
    {
        try
        {
            await scripts.CountSubmission.EvaluateAsync(store.Database, [key], [SubmissionKeySeconds, "refund"]);
        }
        catch (Exception ex) when (StoreFailures.IsUnavailable(ex))
        {
            // The refusal itself is the answer that matters; a count left standing only errs on the strict side.
        }
    }

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();

    private long LeaseUntil() => Now() + (long)_options.LeaseTimeout.TotalMilliseconds;
}
