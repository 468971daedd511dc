namespace ProfileUpdate.Api.Bulk;

/// <summary>Why a body was refused while spooling.</summary>
public enum SpoolLimit : byte
{
    None = 0,
    TooManyBytes = 1,
    TooManyRows = 2,
}

/// <summary>
/// Stage one of a batch: the request body is streamed into a temporary file while bytes and rows are counted. Nothing is
/// applied until the whole body has arrived within the limits, so a file over 50 MB or 500,000 rows changes nothing; and
/// memory stays flat whatever the file size (a 64 KB buffer). Stage two re-reads the file row by row.
/// </summary>
public sealed class BatchSpool : IAsyncDisposable
{
    private BatchSpool(string path) => Path = path;

    public string Path { get; }

    public long Bytes { get; private set; }

    /// <summary>Non-blank lines after the header: the batch size.</summary>
    public long Rows { get; private set; }

    public static async Task<(BatchSpool Spool, SpoolLimit Limit)> CreateAsync(Stream body, long maxBytes, long maxRows, CancellationToken cancellationToken)
    {
        var spool = new BatchSpool(System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"profile-batch-{Guid.NewGuid():N}.csv"));
        try
        {
            await using var file = new FileStream(spool.Path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
            var buffer = new byte[64 * 1024];
            long nonBlankLines = 0;
            var lineHasContent = false;
            int read;
            while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                spool.Bytes += read;
                if (spool.Bytes > maxBytes) return (spool, SpoolLimit.TooManyBytes);
                foreach (var b in buffer.AsSpan(0, read))
                {
                    if (b == (byte)'\n')
                    {
                        if (lineHasContent) nonBlankLines++;
                        lineHasContent = false;
                    }
                    else if (b != (byte)'\r')
                    {
                        lineHasContent = true;
                    }
                }
                // The first non-blank line is the header.
                if (nonBlankLines - 1 > maxRows) return (spool, SpoolLimit.TooManyRows);
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
            if (lineHasContent) nonBlankLines++;
            spool.Rows = Math.Max(0, nonBlankLines - 1);
            return (spool, spool.Rows > maxRows ? SpoolLimit.TooManyRows : SpoolLimit.None);
        }
        catch
        {
            await spool.DisposeAsync();
            throw;
        }
    }

    public FileStream OpenRead() => new(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.SequentialScan);

    public ValueTask DisposeAsync()
    {
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
            // A temp file left behind is harmless; the OS cleans /tmp.
        }
        return ValueTask.CompletedTask;
    }
}
