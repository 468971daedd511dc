namespace ProfileUpdate.Api.Bulk;

/// <summary>
/// Stage one of a batch: the request body is streamed into the spool file while bytes and rows are counted and the
/// header line is checked as soon as it is complete. Nothing is applied until the whole body has arrived within the
/// limits, so a file over a limit changes nothing; memory stays flat whatever the file size (a 64 KB buffer, plus the
/// header line); and the file is flushed to disk before the caller acknowledges it.
/// </summary>
public sealed class BatchSpool : IAsyncDisposable
{
    // The applier reads the header back with a LineReader's default bound, so a header accepted here is read whole there.
    private const int MaxHeaderBytes = LineReader.DefaultMaxLineBytes;
    private readonly SpoolBudget? _budget;
    private bool _kept;

    private BatchSpool(string path, SpoolBudget? budget) => (Path, _budget) = (path, budget);

    /// <summary>Where the file is: the path it was spooled to, then the one <see cref="Keep"/> moved it to.</summary>
    public string Path { get; private set; }

    public long Bytes { get; private set; }

    /// <summary>Non-blank lines after the header: the batch size.</summary>
    public long Rows { get; private set; }

    /// <summary>Why the header was refused (with <see cref="SpoolLimit.BadHeader"/>).</summary>
    public string? HeaderError { get; private set; }

    /// <summary>Why the spool file could not be written (with <see cref="SpoolLimit.NotStored"/>); for the log only.</summary>
    public Exception? StoreError { get; private set; }

    /// <param name="maxBytes">The largest body accepted.</param>
    /// <param name="path">The spool file; a temporary file when null.</param>
    /// <param name="checkHeader">Checks the first non-blank line (without its line end); returns why it is refused, or null.</param>
    /// <param name="budget">Spool space, reserved as the body arrives; kept by an accepted spool until its batch completes.</param>
    public static async Task<(BatchSpool Spool, SpoolLimit Limit)> CreateAsync(Stream body, long maxBytes, long maxRows, CancellationToken cancellationToken,
        string? path = null, Func<ReadOnlyMemory<byte>, string?>? checkHeader = null, SpoolBudget? budget = null)
    {
        var spool = new BatchSpool(path ?? System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"profile-batch-{Guid.NewGuid():N}.csv"), budget);
        try
        {
            return (spool, await spool.FillAsync(body, maxBytes, maxRows, checkHeader, cancellationToken));
        }
        catch
        {
            await spool.DisposeAsync();
            throw;
        }
    }

    private async Task<SpoolLimit> FillAsync(Stream body, long maxBytes, long maxRows, Func<ReadOnlyMemory<byte>, string?>? checkHeader,
        CancellationToken cancellationToken)
    {
        // Failures of the spool file itself (disk full, directory missing, no permission) are caught apart from reading
        // the body: they are the server's fault (503), while an IOException reading the body is malformed framing (400).
        FileStream file;
        try
        {
            file = new FileStream(Path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            StoreError = ex;
            return SpoolLimit.NotStored;
        }
        try
        {
            return await CopyAsync(file, body, maxBytes, maxRows, checkHeader, cancellationToken);
        }
        finally
        {
            try
            {
                await file.DisposeAsync();
            }
            catch (Exception ex) when (IsStoreFailure(ex))
            {
                // Unbuffered and fsynced before success, so nothing is lost here: the outcome is already decided.
                StoreError ??= ex;
            }
        }
    }

    private async Task<SpoolLimit> CopyAsync(FileStream file, Stream body, long maxBytes, long maxRows, Func<ReadOnlyMemory<byte>, string?>? checkHeader,
        CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        var header = checkHeader is null ? null : new MemoryStream();
        long nonBlankLines = 0;
        var lineHasContent = false;
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            Bytes += read;
            if (Bytes > maxBytes) return SpoolLimit.TooManyBytes;
            if (_budget is not null && !_budget.TryReserve(read))
            {
                Bytes -= read;
                return SpoolLimit.NoRoom;
            }
            for (var i = 0; i < read; i++)
            {
                var b = buffer[i];
                if (b == (byte)'\n')
                {
                    if (lineHasContent && ++nonBlankLines == 1 && header is not null && Check(header, checkHeader!)) return SpoolLimit.BadHeader;
                    lineHasContent = false;
                }
                else if (b != (byte)'\r')
                {
                    lineHasContent = true;
                }
                // The header line is kept until it is complete: it is the first non-blank line.
                if (nonBlankLines == 0 && header is not null && (lineHasContent || header.Length > 0) && b != (byte)'\n')
                {
                    if (header.Length >= MaxHeaderBytes)
                    {
                        // A file that is not UTF-8 is told so even with a header line this long (UTF-16 with CR-only line
                        // ends is one line): its encoding is the problem to fix, and the line's start shows it.
                        HeaderError = BatchFileParser.EncodingError(header.GetBuffer().AsSpan(0, (int)header.Length))
                            ?? $"The header line is longer than {MaxHeaderBytes} bytes.";
                        return SpoolLimit.BadHeader;
                    }
                    header.WriteByte(b);
                }
            }
            // The first non-blank line is the header.
            if (nonBlankLines - 1 > maxRows) return SpoolLimit.TooManyRows;
            if (!await StoreAsync(() => file.WriteAsync(buffer.AsMemory(0, read), cancellationToken))) return SpoolLimit.NotStored;
        }
        if (lineHasContent && ++nonBlankLines == 1 && header is not null && Check(header, checkHeader!)) return SpoolLimit.BadHeader;
        if (nonBlankLines == 0 && header is not null && Check(header, checkHeader!)) return SpoolLimit.BadHeader;
        Rows = Math.Max(0, nonBlankLines - 1);
        if (Rows > maxRows) return SpoolLimit.TooManyRows;
        // Durable before the caller acknowledges the batch: a 200 must survive a crash of the machine, not only of the process.
        if (!await StoreAsync(async () =>
            {
                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
            }))
            return SpoolLimit.NotStored;
        return SpoolLimit.None;
    }

    /// <summary>Runs a write to the spool file; false, with <see cref="StoreError"/> set, when the file could not take it.</summary>
    private async Task<bool> StoreAsync(Func<ValueTask> write)
    {
        try
        {
            await write();
            return true;
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            StoreError = ex;
            return false;
        }
    }

    private static bool IsStoreFailure(Exception ex) => ex is IOException or UnauthorizedAccessException;

    private bool Check(MemoryStream header, Func<ReadOnlyMemory<byte>, string?> checkHeader)
    {
        HeaderError = checkHeader(header.GetBuffer().AsMemory(0, (int)header.Length));
        return HeaderError is not null;
    }

    /// <summary>
    /// The batch was accepted (its status record exists): the file is moved to <paramref name="acceptedPath"/> and flushed
    /// again, and it and its spool space now belong to the batch (released when it completes). The spool is written under
    /// another name, so start-up can tell a file a batch was accepted for (resumed, even without its record) from one cut
    /// off mid-upload or refused (deleted). False, with <see cref="StoreError"/>, when the move fails: nothing is kept.
    /// </summary>
    public bool Keep(string acceptedPath)
    {
        try
        {
            MoveDurably(Path, acceptedPath);
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            StoreError = ex;
            if (File.Exists(acceptedPath)) Path = acceptedPath; // moved but not flushed: removed with the refusal
            return false;
        }
        Path = acceptedPath;
        _kept = true;
        return true;
    }

    /// <summary>Renames a spool file and makes the rename durable before returning.</summary>
    public static void MoveDurably(string path, string newPath)
    {
        File.Move(path, newPath);
        // The rename changed the inode (its ctime): this fsync commits the rename with it (ext4, xfs: one journal).
        // Opened for writing (nothing is written): FileStream skips the fsync of a stream it cannot write. FileShare
        // lets a reader that has the file open (the processor, when it marks a batch applied) keep it open.
        using var file = new FileStream(newPath, FileMode.Open, FileAccess.Write, FileShare.Read | FileShare.Delete);
        file.Flush(flushToDisk: true);
    }

    public ValueTask DisposeAsync()
    {
        if (_kept) return ValueTask.CompletedTask;
        _budget?.Release(Bytes);
        try
        {
            File.Delete(Path);
        }
        catch (Exception ex) when (IsStoreFailure(ex))
        {
            // A refused upload's file left behind (under its spooling name) is harmless: start-up removes such files.
        }
        return ValueTask.CompletedTask;
    }
}
