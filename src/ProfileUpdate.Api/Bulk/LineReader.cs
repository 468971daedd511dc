namespace ProfileUpdate.Api.Bulk;

/// <summary>
/// Reads LF-terminated lines of bytes from a stream with one reusable buffer. The buffer grows for a longer line only up
/// to <see cref="MaxLineBytes"/>: a longer line is returned cut to that many bytes with <see cref="Truncated"/> set, and
/// the rest of it is read past without being kept, so memory stays bounded whatever the input (one 50 MB line included).
/// </summary>
/// <param name="stream">Read from its current position.</param>
/// <param name="position">The stream offset reading starts at (a checkpoint when a batch resumes).</param>
/// <param name="lineNumber">The number of the line before the first one read.</param>
/// <param name="maxLineBytes">The longest line returned whole, without its LF; see <see cref="MaxLineBytes"/>.</param>
public sealed class LineReader(Stream stream, long position = 0, long lineNumber = 0, int maxLineBytes = LineReader.DefaultMaxLineBytes)
{
    /// <summary>
    /// The bound when the caller knows no better: the spool refuses a header line longer than this, so a header is
    /// always read whole; rows get the tighter bound their header implies (<see cref="BatchFileParser.MaxRowBytes"/>).
    /// </summary>
    public const int DefaultMaxLineBytes = 1_048_576;

    private const int InitialBufferBytes = 64 * 1024;

    private byte[] _buffer = new byte[(int)Math.Min(InitialBufferBytes, (long)maxLineBytes + 1)];
    private byte[]? _head; // the kept start of the last truncated line, reused
    private int _start;
    private int _end;
    private bool _eof;

    /// <summary>
    /// The longest line returned whole (bytes before its LF, a CR included). May change between lines: the processor
    /// reads the header with the default and the rows with the bound their header implies.
    /// </summary>
    public int MaxLineBytes
    {
        get => maxLineBytes;
        set => maxLineBytes = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "A line bound is at least one byte.");
    }

    /// <summary>1-based number of the line last returned.</summary>
    public long LineNumber { get; private set; } = lineNumber;

    /// <summary>The stream offset just after the line last returned (its LF included): where to resume after it.</summary>
    public long Position { get; private set; } = position;

    /// <summary>
    /// True when the line last returned was longer than <see cref="MaxLineBytes"/>: only its first
    /// <see cref="MaxLineBytes"/> bytes were returned, and the rest was skipped up to the next LF. A line of nothing but
    /// CRs is blank whatever its length, and is never reported truncated (the spool does not count it as a row either).
    /// </summary>
    public bool Truncated { get; private set; }

    /// <summary>The next line without its LF (a CR stays), or null at the end. Valid until the next call.</summary>
    public async ValueTask<ReadOnlyMemory<byte>?> ReadLineAsync(CancellationToken cancellationToken)
    {
        Truncated = false;
        while (true)
        {
            var pending = _end - _start;
            var newline = _buffer.AsSpan(_start, (int)Math.Min(pending, (long)maxLineBytes + 1)).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var line = _buffer.AsMemory(_start, newline);
                _start += newline + 1;
                Position += newline + 1;
                LineNumber++;
                return line;
            }
            if (pending > maxLineBytes) return await SkipRestOfLineAsync(cancellationToken);
            if (_eof)
            {
                if (pending == 0) return null;
                var last = _buffer.AsMemory(_start, pending);
                Position += pending;
                _start = _end;
                LineNumber++;
                return last;
            }
            await FillAsync(cancellationToken);
        }
    }

    /// <summary>
    /// The line at <c>_start</c> is longer than the bound: copies its first <see cref="MaxLineBytes"/> bytes aside (what
    /// the caller gets) and reads on to the next LF or the end of the stream, dropping the bytes in between as they come,
    /// so they never take more memory than the buffer already has.
    /// </summary>
    private async ValueTask<ReadOnlyMemory<byte>?> SkipRestOfLineAsync(CancellationToken cancellationToken)
    {
        var keep = maxLineBytes;
        if (_head is null || _head.Length < keep) _head = new byte[keep];
        _buffer.AsSpan(_start, keep).CopyTo(_head);
        var onlyCr = _head.AsSpan(0, keep).IndexOfAnyExcept((byte)'\r') < 0;
        long length = keep;
        _start += keep;
        while (true)
        {
            var scan = _buffer.AsSpan(_start, _end - _start);
            var newline = scan.IndexOf((byte)'\n');
            var dropped = newline >= 0 ? scan[..newline] : scan;
            onlyCr &= dropped.IndexOfAnyExcept((byte)'\r') < 0;
            length += dropped.Length;
            _start += dropped.Length;
            if (newline >= 0 || _eof)
            {
                var terminated = newline >= 0;
                if (terminated) _start++; // the bytes after the LF are the next line's start
                Position += length + (terminated ? 1 : 0);
                LineNumber++;
                Truncated = !onlyCr;
                return _head.AsMemory(0, keep);
            }
            await FillAsync(cancellationToken); // everything scanned so far is dropped: _start is at _end
        }
    }

    /// <summary>Moves the unread bytes to the front, grows the buffer if it is full (to the bound + 1 at most), then reads.</summary>
    private async ValueTask FillAsync(CancellationToken cancellationToken)
    {
        Compact();
        if (_end == _buffer.Length)
        {
            // One byte more than the bound is enough to see that a line without its LF yet is longer than the bound.
            Array.Resize(ref _buffer, (int)Math.Min((long)_buffer.Length * 2, (long)maxLineBytes + 1));
        }
        var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
        if (read == 0) _eof = true;
        else _end += read;
    }

    private void Compact()
    {
        if (_start == 0) return;
        Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
        _end -= _start;
        _start = 0;
    }
}
