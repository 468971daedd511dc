namespace ProfileUpdate.Api.Bulk;

/// <summary>Reads LF-terminated lines of bytes from a stream with one reusable buffer (grows only for a longer line).</summary>
public sealed class LineReader(Stream stream)
{
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;
    private bool _eof;

    /// <summary>1-based number of the line last returned.</summary>
    public long LineNumber { get; private set; }

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
                LineNumber++;
                return line;
            }
            if (_eof)
            {
                if (_start == _end) return null;
                var last = _buffer.AsMemory(_start, _end - _start);
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
