using System.Globalization;
using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Api.Bulk;

/// <summary>
/// Stage two of a batch: reads the spooled file row by row in file order and applies it in chunks, each chunk one
/// pipelined set of round trips (thirdPartyId lookups or links, then one apply script per hash slot). Later rows for the
/// same profile win per attribute because every chunk, and every script call within it, runs in file order.
/// </summary>
public sealed partial class BulkProcessor(
    [FromKeyedServices(BulkProcessor.StoreLane)] ProfileRepository repository,
    BatchStatusRepository statuses,
    BulkMetrics metrics,
    ProfileMetrics profileMetrics,
    LinkCache linkCache,
    InteractiveLoad interactive,
    IOptions<ProfileUpdateOptions> options,
    TimeProvider time,
    ILogger<BulkProcessor> logger)
{
    /// <summary>The key of the profile repository that writes through the store's bulk connection.</summary>
    public const string StoreLane = "bulk";

    // Chunk size and chunks in flight come from Bulk:ChunkRows / Bulk:ChunksInFlight: Redis serves a connection's queued
    // commands in one go, so what a batch has in flight is what a single update may wait behind. Measured (run-bulk.sh,
    // single updates at 4,000 req/s while a 500,000-row batch applies): 2,000 rows x 4 in flight gave a p99 of 41-50 ms,
    // 500 x 2 8.8 ms but 2.2 x the same-state pipe; 500 x 3 and 500 x 4 1.33-1.41 x the pipe but 10.6-11.6 ms; 250 x 6
    // (the defaults: as many rows in flight as 500 x 3, in smaller pieces Redis interleaves with other clients' commands)
    // 1.37-1.38 x the pipe and 8.7-9.5 ms.
    private int ChunkRows => options.Value.Bulk.ChunkRows;

    private int ChunksInFlight => options.Value.Bulk.ChunksInFlight;

    private const int MaxChunksInFlight = 16; // the largest Bulk:ChunksInFlight accepts

    private static readonly TimeSpan MaxRest = TimeSpan.FromMilliseconds(250); // the longest rest after a chunk when giving way

    /// <summary>Reads the header line; the reader is left at the first data row.</summary>
    public async Task<Parsed<BatchHeader>> ReadHeaderAsync(LineReader reader, bool erase, CancellationToken cancellationToken)
    {
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (reader.Truncated) return Parsed<BatchHeader>.Fail($"The header line is longer than {reader.MaxLineBytes} bytes.");
            if (BatchFileParser.IsBlank(line.Span)) continue;
            return erase ? BatchFileParser.ParseEraseHeader(line.Span) : BatchFileParser.ParseHeader(line.Span, options.Value.Limits);
        }
        return Parsed<BatchHeader>.Fail(BatchFileParser.EmptyError(erase));
    }

    /// <summary>
    /// Applies a spooled batch from its checkpoint on, recording each chunk's counts, failed rows and the new checkpoint
    /// in one atomic step; the last record marks the batch complete. Up to <see cref="ChunksInFlight"/> chunks overlap
    /// (parsing and id lookups of the next while the previous writes), but their writes are issued, and their progress
    /// recorded, strictly in file order, so a later row still wins and a checkpoint never passes an unapplied row.
    /// Cancellation stops at a chunk boundary: the batch stays resumable from its last checkpoint.
    /// </summary>
    /// <returns>True when the batch is complete; false when it stopped (shutdown).</returns>
    public async Task<bool> ApplyAsync(BatchJob job, string owner, CancellationToken stopping)
    {
        // Starting (or resuming) renews the lease and the record's expiry before anything else, as the renewal loop does.
        await statuses.RenewLeasesAsync([(job.Client, job.BatchId)], owner);
        var checkpoint = await statuses.ReadCheckpointAsync(job.Client, job.BatchId);
        var restored = false;
        if (checkpoint is null && job.Applied)
        {
            // Every row was written before the instance stopped, and the record that completed the batch (or the one
            // before it) expired while it was down: done. Applying it again would write days-old values over newer ones.
            LogAppliedWithoutRecord(logger, job.BatchId);
            return true;
        }
        if (checkpoint is null)
        {
            // An acknowledged batch is never dropped: its spool file is here, so it is not done, whatever became of its
            // record (its instance was down for longer than Bulk:StatusRetention, or the record was removed). It is
            // applied again from the top — rows are idempotent sets — under a new record, counting its rows anew.
            var rows = await CountRowsAsync(job.Path);
            await statuses.CreateAsync(job.Client, job.BatchId, rows, owner, job.Erase);
            LogRecordRestored(logger, job.BatchId, rows);
            checkpoint = new BatchCheckpoint(0, 0, false);
            restored = true;
        }
        if (checkpoint.Complete) return true;

        var limits = options.Value.Limits;
        var pause = options.Value.Bulk.PauseBetweenChunks;
        var yieldAbove = options.Value.Bulk.YieldAboveUpdatesPerSecond;
        // Giving way to single updates and visits: on a busy instance the batch keeps one chunk in flight and rests after each as
        // long as it took, so it takes at most about half of what it would of the cores and of Redis. Measured
        // (run-bulk.sh, single updates at half the maximum while a 500,000-row batch applies): without it the p99 of
        // the single updates rose to tens of milliseconds, because a batch at full speed takes both cores.
        bool GivingWay() => yieldAbove > 0 && interactive.UpdatesPerSecond >= yieldAbove;
        // FileShare.Delete: the file is renamed while open, once every row is written (MarkApplied).
        await using var file = new FileStream(job.Path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1,
            FileOptions.Asynchronous | FileOptions.SequentialScan);
        var reader = new LineReader(file);
        var header = await ReadHeaderAsync(reader, job.Erase, CancellationToken.None);
        if (!header.Succeeded) throw new InvalidDataException($"Spool file of batch {job.BatchId} has no valid header.");
        // Rows are read only as long as a valid row of this header can be: a longer line is a failed row, skipped unread.
        var maxRowBytes = options.Value.Bulk.MaxRowBytes;
        var rowBound = BatchFileParser.MaxRowBytes(header.Value, limits, maxRowBytes);
        if (checkpoint.Offset > reader.Position)
        {
            file.Seek(checkpoint.Offset, SeekOrigin.Begin);
            reader = new LineReader(file, checkpoint.Offset, checkpoint.Row, rowBound);
        }
        else
        {
            reader.MaxLineBytes = rowBound;
        }

        // After a crash, up to ChunksInFlight chunks past the checkpoint may have been written but not recorded: in
        // those, a v2 row that finds its profile already there may have created it itself before the crash. The run that
        // crashed may have had another setting, so the most the setting allows are checked (a few thousand reads, once).
        // A batch whose record was restored may have been applied anywhere up to its end before: every chunk is checked.
        var suspectChunks = restored ? int.MaxValue : job.Resumed ? MaxChunksInFlight : 0;
        var from = checkpoint.Offset; // the record's checkpoint, which each chunk's record moves on from
        var inFlight = new Queue<(Task<(BatchCounts Delta, List<BatchFailure> Failures)> Apply, BatchCheckpoint To, ChunkContext Context, long Started)>();
        var previousWriteIssued = Task.CompletedTask;
        var done = false;
        try
        {
            while (!done || inFlight.Count > 0)
            {
                if (!done && !stopping.IsCancellationRequested && inFlight.Count < (GivingWay() ? 1 : ChunksInFlight))
                {
                    var chunk = new List<BatchRow>(ChunkRows);
                    while (chunk.Count < ChunkRows)
                    {
                        if (await reader.ReadLineAsync(CancellationToken.None) is not { } line) { done = true; break; }
                        if (reader.Truncated)
                        {
                            chunk.Add(BatchFileParser.TooLongRow(line.Span, reader.LineNumber, header.Value, limits, maxRowBytes));
                            continue;
                        }
                        if (BatchFileParser.IsBlank(line.Span)) continue;
                        chunk.Add(BatchFileParser.ParseRow(line.Span, reader.LineNumber, header.Value, limits, job.EmptyValues));
                    }
                    var writeIssued = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    var context = new ChunkContext(job, header.Value, suspectChunks-- > 0);
                    var started = time.GetTimestamp();
                    inFlight.Enqueue((ApplyChunkAsync(context, chunk, previousWriteIssued, writeIssued),
                        new BatchCheckpoint(reader.Position, reader.LineNumber, done), context, started));
                    previousWriteIssued = writeIssued.Task;
                    continue;
                }
                if (inFlight.Count == 0) return false; // stopping, nothing left in flight: resumable from the checkpoint
                var (apply, to, recorded, chunkStarted) = inFlight.Dequeue();
                var (delta, failures) = await apply;
                // The last chunk's writes are done (the ones before it were recorded): the file says so before the record
                // that completes the batch, so no moment exists in which a crash leaves a fully written batch looking
                // unwritten to a start-up that finds its record expired.
                if (to.Complete && !job.Applied) MarkApplied(job);
                if (!await statuses.RecordChunkAsync(job.Client, job.BatchId, from, to, delta, failures, owner))
                    throw new InvalidOperationException($"Batch {job.BatchId}: its checkpoint moved under this instance; another instance applies it.");
                from = to.Offset;
                if (job.Erase)
                {
                    // Counted once recorded: a chunk re-applied after a crash is not counted again.
                    await statuses.ForgetErasuresAsync(job.Client, job.BatchId, recorded.Journaled, to.Complete);
                    metrics.Erased(job.Client, delta.Successful, delta.NotFound, delta.Failed);
                    profileMetrics.Deleted(job.Client, delta.Successful, bulk: true);
                }
                else
                {
                    metrics.Rows(job.Client, delta.Successful - delta.Created, delta.Created, delta.NotFound, delta.Failed);
                }
                if (to.Complete) return true;
                var rest = pause;
                if (inFlight.Count == 0 && GivingWay())
                {
                    // As long as the chunk took (read, parsed, written, recorded), within bounds: a chunk that waited
                    // for a slow store does not stop the batch for long.
                    var took = time.GetElapsedTime(chunkStarted);
                    rest = TimeSpan.FromTicks(Math.Max(rest.Ticks, Math.Min(took.Ticks, MaxRest.Ticks)));
                    metrics.GaveWay(job.Client, rest);
                }
                if (rest > TimeSpan.Zero) await Task.Delay(rest, time, CancellationToken.None);
            }
            return false;
        }
        finally
        {
            // On failure, let the chunks still running finish (or fail) before the caller moves on.
            foreach (var (pending, _, _, _) in inFlight)
            {
                try { await pending; } catch (Exception) { /* the first failure is already propagating */ }
            }
        }
    }

    private void MarkApplied(BatchJob job)
    {
        try
        {
            BatchSpool.MoveDurably(job.Path, BatchJob.AppliedPath(job.Path));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Not fatal: the batch completes as before; only the rare case above (killed before the file is deleted, back
            // after the retention) would apply it again.
            LogMarkFailed(logger, job.BatchId, ex.GetType().Name);
        }
    }

    /// <summary>The batch size of a spooled file, counted as the spool counted it at acceptance: non-blank lines after the header.</summary>
    private static async Task<long> CountRowsAsync(string path)
    {
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var reader = new LineReader(file);
        long lines = 0;
        while (await reader.ReadLineAsync(CancellationToken.None) is { } line)
            if (!BatchFileParser.IsBlank(line.Span)) lines++;
        return Math.Max(0, lines - 1);
    }

    // The batch id and row count only: nothing of the file's contents.
    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId} has a spool file but no status record (it expired or was removed); " +
        "applying its {Rows} rows again from the start under a new record")]
    private static partial void LogRecordRestored(ILogger logger, string batchId, long rows);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch {BatchId} had every row written before its instance stopped and its " +
        "status record has expired since; its spool file is removed, not applied again")]
    private static partial void LogAppliedWithoutRecord(ILogger logger, string batchId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Batch {BatchId}: could not mark its spool file applied ({Error}); it completes all the same")]
    private static partial void LogMarkFailed(ILogger logger, string batchId, string error);

    /// <summary>What a chunk needs besides its rows; an erase chunk notes the lines it journaled, cleared once recorded.</summary>
    private sealed record ChunkContext(BatchJob Job, BatchHeader Header, bool Suspect)
    {
        public List<long> Journaled { get; } = [];
    }

    private async Task<(BatchCounts Delta, List<BatchFailure> Failures)> ApplyChunkAsync(ChunkContext context, List<BatchRow> chunk,
        Task previousWriteIssued, TaskCompletionSource writeIssued)
    {
        try
        {
            return await ApplyChunkCoreAsync(context, chunk, previousWriteIssued, writeIssued);
        }
        finally
        {
            writeIssued.TrySetResult(); // never leave the next chunk waiting, even when this one failed
        }
    }

    private async Task<(BatchCounts Delta, List<BatchFailure> Failures)> ApplyChunkCoreAsync(ChunkContext context, List<BatchRow> chunk,
        Task previousWriteIssued, TaskCompletionSource writeIssued)
    {
        var (job, header, suspect) = context;
        var client = job.Client;
        var createMissing = job.CreateMissing;
        var failures = new List<BatchFailure>();
        var valid = new List<BatchRow>(chunk.Count);
        foreach (var row in chunk)
        {
            if (row.Failed) failures.Add(new BatchFailure(row.Line, row.Id, row.Error!));
            else valid.Add(row);
        }
        if (job.Erase) return await EraseChunkAsync(context, chunk.Count, valid, failures, previousWriteIssued, writeIssued);

        // The tntId each valid row writes to (null: v1 row whose thirdPartyId is linked to no profile).
        var tntIds = new string?[valid.Count];
        var knownNew = new bool[valid.Count];
        if (header.IdKind == IdentityKind.TntId)
        {
            for (var i = 0; i < valid.Count; i++) tntIds[i] = valid[i].Id;
        }
        else if (createMissing)
        {
            // v2: link each new thirdPartyId to a fresh tntId; an existing link wins (pipelined, file order kept per id).
            var ids = new string[valid.Count];
            var candidates = new string[valid.Count];
            for (var i = 0; i < valid.Count; i++) (ids[i], candidates[i]) = (valid[i].Id!, VisitorIds.NewTntId());
            var links = await repository.LinkThirdPartyAsync(client, ids, candidates);
            for (var i = 0; i < valid.Count; i++) (tntIds[i], knownNew[i]) = links[i];
        }
        else
        {
            var resolved = await repository.ResolveThirdPartyAsync(valid.Select(r => (client, r.Id!)).ToList());
            Array.Copy(resolved, tntIds, resolved.Length);
        }

        var writes = new List<ProfileWrite>(valid.Count);
        var writesKnownNew = new bool[valid.Count];
        var tags = createMissing ? new string[valid.Count] : null;
        long notFound = 0;
        for (var i = 0; i < valid.Count; i++)
        {
            if (tntIds[i] is not { } tnt) { notFound++; continue; }
            writesKnownNew[writes.Count] = knownNew[i];
            if (tags is not null) tags[writes.Count] = CreationTag(job.BatchId, valid[i].Line);
            var thirdParty = header.IdKind == IdentityKind.ThirdPartyId && createMissing ? valid[i].Id : null;
            writes.Add(new ProfileWrite(client, tnt, thirdParty, createMissing ? WriteMode.CreateIfMissing : WriteMode.UpdateOnly,
                valid[i].Attributes!, valid[i].Removals)
            {
                NamedThirdPartyId = header.IdKind == IdentityKind.ThirdPartyId ? valid[i].Id : null,
            });
        }
        var results = new WriteResult[writes.Count];
        await previousWriteIssued;
        // WriteAsync hands its commands to the connection before its first await: once it returns, this chunk's writes
        // are queued behind the previous chunk's, and the next chunk may issue its own.
        // v2 needs no condition, so plain pipelined commands do (cheaper for Redis than a script); v1 must not create,
        // so its update-only condition runs in the apply script.
        var writing = createMissing
            ? repository.UpsertAsync(writes, writesKnownNew, results, WriteStamp.At(time), tags)
            : repository.WriteAsync(writes, results);
        writeIssued.TrySetResult();
        await writing;
        if (createMissing && header.IdKind == IdentityKind.ThirdPartyId) await RelinkRecreatedAsync(client, writes, writesKnownNew, results);
        if (suspect && tags is not null) await RecognizeEarlierCreationsAsync(writes, results, tags);

        long successful = 0, created = 0;
        foreach (var result in results)
        {
            switch (result)
            {
                case WriteResult.Created: successful++; created++; break;
                case WriteResult.Applied: successful++; break;
                default: notFound++; break;
            }
        }
        return (new BatchCounts(0, chunk.Count, successful, notFound, failures.Count, created), failures);
    }

    /// <summary>
    /// A chunk of a bulk erase: each row's profile deleted as a DELETE would (<see cref="ProfileRepository.DeleteAsync"/>:
    /// hash and every link, atomically where the store allows). The chunk's deletes start once the previous chunk's are
    /// done, so rows act in file order; within the chunk a profile named twice (by tntId and by a thirdPartyId, or twice)
    /// is deleted by its first row, and the later ones count as not found, as they would one after the other. Before the
    /// deletes, the rows whose profile exists are journaled, so a chunk re-applied after a crash counts exactly.
    /// </summary>
    private async Task<(BatchCounts Delta, List<BatchFailure> Failures)> EraseChunkAsync(ChunkContext context, int rows,
        List<BatchRow> valid, List<BatchFailure> failures, Task previousWriteIssued, TaskCompletionSource writeIssued)
    {
        var (job, header, suspect) = context;
        var client = job.Client;
        var byThirdParty = header.IdKind == IdentityKind.ThirdPartyId;
        var tntIds = byThirdParty
            ? await repository.ResolveThirdPartyAsync(valid.Select(r => (client, r.Id!)).ToList())
            : valid.Select(r => (string?)r.Id).ToArray();
        await previousWriteIssued;

        // The first row naming each profile deletes it.
        var first = new bool[valid.Count];
        var named = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < valid.Count; i++) first[i] = tntIds[i] is { } tnt && named.Add(VisitorIds.TntBase(tnt));
        var exists = await repository.ExistAsync(client, tntIds.Select((t, i) => first[i] ? t : null).ToList());
        for (var i = 0; i < valid.Count; i++)
            if (exists[i]) context.Journaled.Add(valid[i].Line);
        await statuses.JournalErasuresAsync(client, job.BatchId, context.Journaled);

        var deleting = new Task<ProfileDeletion>?[valid.Count];
        for (var i = 0; i < valid.Count; i++)
            if (first[i]) deleting[i] = repository.DeleteAsync(client, tntIds[i]!, byThirdParty ? valid[i].Id : null);
        await Task.WhenAll(deleting.OfType<Task<ProfileDeletion>>());
        writeIssued.TrySetResult();

        var deleted = new bool[valid.Count];
        for (var i = 0; i < valid.Count; i++)
        {
            if (deleting[i] is not { } deletion) continue;
            var result = await deletion;
            foreach (var id in result.ThirdPartyIds) linkCache.Forget(client, id);
            deleted[i] = result.Found;
        }
        if (suspect)
        {
            // Re-applied after a crash: a row the run that crashed deleted finds nothing now, but its journal entry says.
            var missing = Enumerable.Range(0, valid.Count).Where(i => !deleted[i]).ToList();
            var journaled = await statuses.JournaledErasuresAsync(client, job.BatchId, missing.Select(i => valid[i].Line).ToList());
            for (var j = 0; j < missing.Count; j++)
            {
                if (!journaled[j]) continue;
                deleted[missing[j]] = true;
                context.Journaled.Add(valid[missing[j]].Line);
            }
        }
        long successful = deleted.Count(d => d);
        return (new BatchCounts(0, rows, successful, valid.Count - successful, failures.Count, 0), failures);
    }

    /// <summary>
    /// A v2 row found its thirdPartyId linked but created the profile: the profile was deleted between the link lookup
    /// and the write. The link (removed with the profile) is made again, unless the id was linked anew meanwhile, so the
    /// re-created profile is complete rather than a profile that records a link no longer there.
    /// </summary>
    private async Task RelinkRecreatedAsync(string client, List<ProfileWrite> writes, bool[] knownNew, WriteResult[] results)
    {
        List<int>? recreated = null;
        for (var i = 0; i < writes.Count; i++)
            if (!knownNew[i] && results[i] == WriteResult.Created && writes[i].ThirdPartyId is not null) (recreated ??= []).Add(i);
        if (recreated is null) return;
        await repository.LinkThirdPartyAsync(client, recreated.Select(i => writes[i].ThirdPartyId!).ToList(),
            recreated.Select(i => writes[i].TntId).ToArray());
    }

    /// <summary>
    /// The batch and row a v2 row records in '_:c' of a profile it creates (by the command that decides the creation),
    /// so a re-applied row can tell it created it.
    /// </summary>
    internal static string CreationTag(string batchId, long line) => string.Create(CultureInfo.InvariantCulture, $"{batchId}:{line}");

    /// <summary>
    /// In a chunk re-applied after a crash, a row that found its profile already there may have created it in the run
    /// that crashed: the profile's '_:c' then names this row, and it is counted as created, exactly as an uninterrupted
    /// run counts it. Only the row whose creation step won is named there, so a row of another batch that wrote the
    /// same new profile (and counted it, or will) never makes this one count it too.
    /// </summary>
    private async Task RecognizeEarlierCreationsAsync(List<ProfileWrite> writes, WriteResult[] results, string[] tags)
    {
        var applied = Enumerable.Range(0, writes.Count).Where(i => results[i] == WriteResult.Applied).ToList();
        if (applied.Count == 0) return;
        var found = await repository.ReadCreatorsAsync(applied.Select(i => writes[i]).ToList());
        for (var j = 0; j < applied.Count; j++)
            if (found[j] == tags[applied[j]]) results[applied[j]] = WriteResult.Created;
    }
}
