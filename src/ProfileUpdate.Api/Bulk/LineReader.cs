namespace ProfileUpdate.Api.Bulk;

/// <summary>Reads LF-terminated lines of bytes from a stream with one reusable buffer (grows only for a longer line).</summary>
/// <param name="stream">Read from its current position.</param>
/// <param name="position">The stream offset reading starts at (a checkpoint when a batch resumes).</param>
/// <param name="lineNumber">The number of the line before the first one read.</param>
public sealed class LineReader(Stream stream, long position = 0, long lineNumber = 0)
{
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;
    private bool _eof;

    /// <summary>1-based number of the line last returned.</summary>
    public long LineNumber { get; private set; } = lineNumber;

    /// <summary>The stream offset just after the line last returned (its LF included): where to resume after it.</summary>
    public long Position { get; private set; } = position;

    /// <summary>The next line without its LF (a CR stays), or null at the end. Valid until the next call.</summary>
    public async ValueTask<ReadOnlyMemory<byte>?> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var newline = _buffer.AsSpan(_start, _end - _start).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var line = _buffer.AsMemory(_start, newline);
                _start += newline + 1;
                Position += newline + 1;
                LineNumber++;
                return line;
            }
            if (_eof)
            {
                if (_start == _end) return null;
                var last = _buffer.AsMemory(_start, _end - _start);
                Position += _end - _start;
                _start = _end;
                LineNumber++;
                return last;
            }
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
            var read = await stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (read == 0) _eof = true;
            else _end += read;
        }
    }
}
