using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Api.Bulk;

/// <summary>
/// Stage two of a batch: reads the spooled file row by row in file order and applies it in chunks, each chunk one
/// pipelined set of round trips (thirdPartyId lookups or links, then one apply script per hash slot). Later rows for the
/// same profile win per attribute because every chunk, and every script call within it, runs in file order.
/// </summary>
public sealed class BulkProcessor(
    ProfileRepository repository,
    BatchStatusRepository statuses,
    BulkMetrics metrics,
    IOptions<ProfileUpdateOptions> options,
    TimeProvider time)
{
    private const int ChunkRows = 2000;
    private const int ChunksInFlight = 4;

    /// <summary>Reads the header line; the reader is left at the first data row.</summary>
    public async Task<Parsed<BatchHeader>> ReadHeaderAsync(LineReader reader, CancellationToken cancellationToken)
    {
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (BatchFileParser.IsBlank(line.Span)) continue;
            return BatchFileParser.ParseHeader(line.Span, options.Value.Limits);
        }
        return Parsed<BatchHeader>.Fail("The file is empty; it must start with 'batch=' and a header line, e.g. batch=thirdPartyId,tier.");
    }

    /// <summary>
    /// Applies every row; the status in Redis is updated after each chunk and marked complete at the end. Up to
    /// <see cref="ChunksInFlight"/> chunks overlap (parsing and id lookups of the next while the previous writes), but their
    /// writes are issued strictly in file order, so a later row still wins.
    /// </summary>
    public async Task ApplyAsync(string client, string batchId, LineReader reader, BatchHeader header, bool createMissing,
        CancellationToken cancellationToken)
    {
        var limits = options.Value.Limits;
        var retention = options.Value.Bulk.StatusRetention;
        long failuresKept = 0;
        var inFlight = new Queue<Task<(BatchCounts Delta, List<BatchFailure> Failures)>>();
        var previousWriteIssued = Task.CompletedTask;
        var done = false;
        try
        {
            while (!done)
            {
                var chunk = new List<BatchRow>(ChunkRows);
                while (chunk.Count < ChunkRows)
                {
                    if (await reader.ReadLineAsync(cancellationToken) is not { } line) { done = true; break; }
                    if (BatchFileParser.IsBlank(line.Span)) continue;
                    chunk.Add(BatchFileParser.ParseRow(line.Span, reader.LineNumber, header, limits));
                }
                var writeIssued = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                inFlight.Enqueue(ApplyChunkAsync(client, chunk, header, createMissing, previousWriteIssued, writeIssued));
                previousWriteIssued = writeIssued.Task;

                while (inFlight.Count >= ChunksInFlight || (done && inFlight.Count > 0))
                {
                    var (delta, failures) = await inFlight.Dequeue();
                    await statuses.RecordAsync(client, batchId, delta, failures, failuresKept, complete: done && inFlight.Count == 0, retention);
                    failuresKept += failures.Count;
                    metrics.Rows(client, delta.Successful - delta.Created, delta.Created, delta.NotFound, delta.Failed);
                }
            }
        }
        finally
        {
            // On failure, let the chunks still running finish (or fail) before the caller answers.
            foreach (var pending in inFlight)
            {
                try { await pending; } catch (Exception) { /* the first failure is already propagating */ }
            }
        }
    }

    private async Task<(BatchCounts Delta, List<BatchFailure> Failures)> ApplyChunkAsync(string client, List<BatchRow> chunk,
        BatchHeader header, bool createMissing, Task previousWriteIssued, TaskCompletionSource writeIssued)
    {
        try
        {
            return await ApplyChunkCoreAsync(client, chunk, header, createMissing, previousWriteIssued, writeIssued);
        }
        finally
        {
            writeIssued.TrySetResult(); // never leave the next chunk waiting, even when this one failed
        }
    }

    private async Task<(BatchCounts Delta, List<BatchFailure> Failures)> ApplyChunkCoreAsync(string client, List<BatchRow> chunk,
        BatchHeader header, bool createMissing, Task previousWriteIssued, TaskCompletionSource writeIssued)
    {
        var failures = new List<BatchFailure>();
        var valid = new List<BatchRow>(chunk.Count);
        foreach (var row in chunk)
        {
            if (row.Failed) failures.Add(new BatchFailure(row.Line, row.Id, row.Error!));
            else valid.Add(row);
        }

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
        long notFound = 0;
        for (var i = 0; i < valid.Count; i++)
        {
            if (tntIds[i] is not { } tnt) { notFound++; continue; }
            writesKnownNew[writes.Count] = knownNew[i];
            var thirdParty = header.IdKind == IdentityKind.ThirdPartyId && createMissing ? valid[i].Id : null;
            writes.Add(new ProfileWrite(client, tnt, thirdParty, createMissing ? WriteMode.CreateIfMissing : WriteMode.UpdateOnly,
                valid[i].Attributes!));
        }
        var results = new WriteResult[writes.Count];
        await previousWriteIssued;
        // WriteAsync hands its commands to the connection before its first await: once it returns, this chunk's writes
        // are queued behind the previous chunk's, and the next chunk may issue its own.
        // v2 needs no condition, so plain pipelined commands do (cheaper for Redis than a script); v1 must not create,
        // so its update-only condition runs in the apply script.
        var writing = createMissing
            ? repository.UpsertAsync(writes, writesKnownNew, results, WriteStamp.At(time))
            : repository.WriteAsync(writes, results);
        writeIssued.TrySetResult();
        await writing;

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
}
