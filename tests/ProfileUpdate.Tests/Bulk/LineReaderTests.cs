using System.Text;
using ProfileUpdate.Api.Bulk;

namespace ProfileUpdate.Tests.Bulk;

public sealed class LineReaderTests
{
    private const int BufferSize = 64 * 1024;

    /// <summary>Every line the reader returns (copied, since a line is valid only until the next call) and the final line number.</summary>
    internal static async Task<(List<byte[]> Lines, long LineNumber)> ReadAllAsync(Stream stream)
    {
        var reader = new LineReader(stream);
        var lines = new List<byte[]>();
        while (await reader.ReadLineAsync(CancellationToken.None) is { } line)
        {
            lines.Add(line.ToArray());
            Assert.Equal(lines.Count, reader.LineNumber);
        }
        // Once at the end, it stays at the end.
        Assert.Null(await reader.ReadLineAsync(CancellationToken.None));
        return (lines, reader.LineNumber);
    }

    /// <summary>The expected lines: split on LF, where a final LF ends the last line rather than starting an empty one.</summary>
    internal static List<byte[]> SplitLines(byte[] content)
    {
        var lines = new List<byte[]>();
        var start = 0;
        for (var i = 0; i < content.Length; i++)
        {
            if (content[i] != (byte)'\n') continue;
            lines.Add(content[start..i]);
            start = i + 1;
        }
        if (start < content.Length) lines.Add(content[start..]);
        return lines;
    }

    private static async Task AssertReadsAsExpected(byte[] content, int? chunk = null)
    {
        var (lines, lineNumber) = await ReadAllAsync(chunk is { } size ? new ChunkedStream(content, size) : new MemoryStream(content));
        var expected = SplitLines(content);
        Assert.Equal(expected.Count, lines.Count);
        for (var i = 0; i < expected.Count; i++) Assert.True(expected[i].AsSpan().SequenceEqual(lines[i]), $"line {i + 1} differs");
        Assert.Equal(expected.Count, lineNumber);
    }

    private static string Text(byte[] line) => Encoding.UTF8.GetString(line);

    [Fact]
    public async Task Reads_lines_without_their_lf_and_keeps_a_cr()
    {
        var (lines, lineNumber) = await ReadAllAsync(new MemoryStream("a\nbc\r\n\n\r\nd"u8.ToArray()));
        Assert.Equal(["a", "bc\r", "", "\r", "d"], lines.Select(Text));
        Assert.Equal(5, lineNumber);
    }

    [Fact]
    public async Task Last_line_without_lf_is_returned()
    {
        var (lines, _) = await ReadAllAsync(new MemoryStream("batch=pcId,a\nabc,1"u8.ToArray()));
        Assert.Equal(["batch=pcId,a", "abc,1"], lines.Select(Text));
    }

    [Fact]
    public async Task Final_lf_does_not_add_an_empty_line_but_an_extra_one_does()
    {
        Assert.Equal(["x"], (await ReadAllAsync(new MemoryStream("x\n"u8.ToArray()))).Lines.Select(Text));
        Assert.Equal(["x", ""], (await ReadAllAsync(new MemoryStream("x\n\n"u8.ToArray()))).Lines.Select(Text));
        Assert.Equal([""], (await ReadAllAsync(new MemoryStream("\n"u8.ToArray()))).Lines.Select(Text));
    }

    [Fact]
    public async Task Empty_stream_has_no_lines()
    {
        var (lines, lineNumber) = await ReadAllAsync(new MemoryStream());
        Assert.Empty(lines);
        Assert.Equal(0, lineNumber);
    }

    [Theory]
    [InlineData(BufferSize - 2)]
    [InlineData(BufferSize - 1)] // the LF is the last byte of the first buffer
    [InlineData(BufferSize)] // the LF is the first byte of the second buffer
    [InlineData(BufferSize + 1)]
    public async Task Lines_around_the_buffer_boundary_are_read_whole(int firstLineLength)
    {
        var first = Enumerable.Repeat((byte)'a', firstLineLength);
        var content = first.Append((byte)'\n').Concat("second,line\r\nthird"u8.ToArray()).ToArray();
        var (lines, _) = await ReadAllAsync(new MemoryStream(content));
        Assert.Equal(3, lines.Count);
        Assert.Equal(firstLineLength, lines[0].Length);
        Assert.All(lines[0], b => Assert.Equal((byte)'a', b));
        Assert.Equal("second,line\r", Text(lines[1]));
        Assert.Equal("third", Text(lines[2]));
    }

    [Fact]
    public async Task Many_lines_crossing_several_buffer_boundaries_come_back_intact()
    {
        var builder = new StringBuilder();
        for (var i = 0; i < 40_000; i++) builder.Append("id").Append(i).Append(",value-").Append(i % 13).Append(i % 3 == 0 ? "\r\n" : "\n");
        var content = Encoding.ASCII.GetBytes(builder.ToString());
        Assert.True(content.Length > 8 * BufferSize);
        await AssertReadsAsExpected(content);
    }

    [Fact]
    public async Task Line_longer_than_the_buffer_is_read_whole()
    {
        var longLine = new byte[5 * BufferSize + 123];
        for (var i = 0; i < longLine.Length; i++) longLine[i] = (byte)('a' + (i % 26));
        byte[] content = [.. "batch=pcId,a\n"u8, .. longLine, .. "\r\nshort\n"u8, .. longLine];
        var (lines, _) = await ReadAllAsync(new MemoryStream(content));

        Assert.Equal(4, lines.Count);
        Assert.Equal("batch=pcId,a", Text(lines[0]));
        Assert.Equal([.. longLine, (byte)'\r'], lines[1]);
        Assert.Equal("short", Text(lines[2]));
        Assert.Equal(longLine, lines[3]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    [InlineData(BufferSize - 1)]
    public async Task Streams_that_return_short_reads_give_the_same_lines(int chunk)
    {
        var random = new Random(chunk);
        var content = new byte[3 * BufferSize + 17];
        for (var i = 0; i < content.Length; i++) content[i] = random.Next(10) == 0 ? (byte)'\n' : random.Next(20) == 0 ? (byte)'\r' : (byte)random.Next(32, 127);
        await AssertReadsAsExpected(content, chunk);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(BufferSize)]
    public async Task Line_longer_than_the_bound_comes_back_cut_and_flagged_and_the_next_lines_are_intact(int chunk)
    {
        var longLine = Encoding.ASCII.GetBytes("id-7," + new string('v', 3 * BufferSize));
        byte[] content = [.. "batch=pcId,a\n"u8, .. longLine, .. "\r\nnext,1\n0123456789\nlast"u8];
        var reader = new LineReader(new ChunkedStream(content, chunk), maxLineBytes: 10);

        Assert.Equal("batch=pcId", Text((await reader.ReadLineAsync(CancellationToken.None))!.Value.ToArray()));
        Assert.True(reader.Truncated); // the header is longer than 10 bytes too

        var cut = (await reader.ReadLineAsync(CancellationToken.None))!.Value.ToArray();
        Assert.Equal("id-7,vvvvv", Text(cut));
        Assert.True(reader.Truncated);
        Assert.Equal(2, reader.LineNumber);
        // Just after its LF (the whole line, its CR included, was read past): where a checkpoint resumes.
        Assert.Equal(13 + (longLine.Length + 1) + 1, reader.Position);

        Assert.Equal("next,1", Text((await reader.ReadLineAsync(CancellationToken.None))!.Value.ToArray()));
        Assert.False(reader.Truncated);
        Assert.Equal("0123456789", Text((await reader.ReadLineAsync(CancellationToken.None))!.Value.ToArray())); // exactly the bound
        Assert.False(reader.Truncated);
        Assert.Equal("last", Text((await reader.ReadLineAsync(CancellationToken.None))!.Value.ToArray()));
        Assert.Equal(5, reader.LineNumber);
        Assert.Equal(content.Length, reader.Position);
        Assert.Null(await reader.ReadLineAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Last_line_longer_than_the_bound_without_lf_is_cut_and_flagged()
    {
        var reader = new LineReader(new MemoryStream("a\n0123456789abc"u8.ToArray()), maxLineBytes: 10);
        await reader.ReadLineAsync(CancellationToken.None);
        Assert.Equal("0123456789", Text((await reader.ReadLineAsync(CancellationToken.None))!.Value.ToArray()));
        Assert.True(reader.Truncated);
        Assert.Equal(2 + 13, reader.Position); // all 13 bytes of the cut line read past
        Assert.Null(await reader.ReadLineAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Line_of_only_crs_longer_than_the_bound_is_blank_not_truncated()
    {
        // The spool does not count such a line as a row, so the applier must not report it as a failed one.
        byte[] content = [.. Enumerable.Repeat((byte)'\r', 100), (byte)'\n', .. Enumerable.Repeat((byte)'\r', 20), (byte)'x', (byte)'\n'];
        var reader = new LineReader(new MemoryStream(content), maxLineBytes: 10);
        var blank = (await reader.ReadLineAsync(CancellationToken.None))!.Value;
        Assert.False(reader.Truncated);
        Assert.True(BatchFileParser.IsBlank(blank.Span));
        var cut = (await reader.ReadLineAsync(CancellationToken.None))!.Value;
        Assert.True(reader.Truncated); // its first 10 bytes are CRs, but the line is not blank
        Assert.True(BatchFileParser.IsBlank(cut.Span));
    }

    [Fact]
    public async Task A_50_MB_line_is_skipped_in_bounded_memory()
    {
        const long huge = 50L * 1024 * 1024;
        var reader = new LineReader(new GeneratedLineStream(huge), maxLineBytes: 4096);
        await reader.ReadLineAsync(CancellationToken.None); // warm up: the buffers exist
        var start = reader.Position;
        var before = GC.GetAllocatedBytesForCurrentThread();
        var line = await reader.ReadLineAsync(CancellationToken.None);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(reader.Truncated);
        Assert.Equal(4096, line!.Value.Length);
        Assert.Equal(start + huge + 1, reader.Position); // the whole line and its LF read past
        Assert.Equal("after", Text((await reader.ReadLineAsync(CancellationToken.None))!.Value.ToArray()));
        // Without the bound the buffer doubled up to 64 MB for this line.
        Assert.True(allocated < 1024 * 1024, $"{allocated} bytes allocated reading past one {huge}-byte line");
    }

    /// <summary>"first\n", then <c>length</c> bytes of 'x', then "\nafter\n", generated as read (never held whole).</summary>
    private sealed class GeneratedLineStream(long length) : Stream
    {
        private static readonly byte[] Head = "first\n"u8.ToArray();
        private static readonly byte[] Tail = "\nafter\n"u8.ToArray();
        private long _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => Head.Length + length + Tail.Length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = 0;
            while (n < buffer.Length && _position < Length)
            {
                buffer[n++] = _position < Head.Length ? Head[_position]
                    : _position < Head.Length + length ? (byte)'x'
                    : Tail[_position - Head.Length - length];
                _position++;
            }
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    [Fact]
    public async Task Cancellation_is_passed_to_the_stream()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        var reader = new LineReader(new ChunkedStream("a\nb"u8.ToArray(), 1));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await reader.ReadLineAsync(cts.Token));
    }

    /// <summary>A read-only stream that hands out at most <c>chunk</c> bytes per read, as a network stream may.</summary>
    internal sealed class ChunkedStream(byte[] content, int chunk) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = Math.Min(Math.Min(chunk, buffer.Length), content.Length - _position);
            content.AsSpan(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return ValueTask.FromResult(Read(buffer.Span));
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
