using System.Text;
using ProfileUpdate.Api.Bulk;
using ProfileUpdate.Api.Configuration;

namespace ProfileUpdate.Tests.Bulk;

public sealed class BatchSpoolTests
{
    private const long NoLimit = long.MaxValue;

    private static byte[] Bytes(string content) => Encoding.UTF8.GetBytes(content);

    private static Task<(BatchSpool Spool, SpoolLimit Limit)> SpoolAsync(byte[] content, long maxBytes = NoLimit, long maxRows = NoLimit) =>
        BatchSpool.CreateAsync(new MemoryStream(content), maxBytes, maxRows, CancellationToken.None);

    private static byte[] RowsFile(int rows, bool finalLf = true)
    {
        var builder = new StringBuilder("batch=thirdPartyId,tier\n");
        for (var i = 0; i < rows; i++)
        {
            builder.Append('r').Append(i).Append(",gold");
            if (finalLf || i < rows - 1) builder.Append('\n');
        }
        return Bytes(builder.ToString());
    }

    [Fact]
    public async Task Spools_the_body_to_a_file_counting_bytes_and_rows()
    {
        var content = Bytes("batch=thirdPartyId,tier\nabc,gold\r\ndef,silver\nghi,bronze");
        var (spool, limit) = await SpoolAsync(content);
        await using (spool)
        {
            Assert.Equal(SpoolLimit.None, limit);
            Assert.Equal(content.Length, spool.Bytes);
            Assert.Equal(3, spool.Rows);
            Assert.Equal(content, await File.ReadAllBytesAsync(spool.Path));

            await using var read = File.OpenRead(spool.Path);
            using var copy = new MemoryStream();
            await read.CopyToAsync(copy);
            Assert.Equal(content, copy.ToArray());
        }
    }

    [Theory]
    [InlineData("batch=thirdPartyId,tier\n\nabc,gold\n\n\ndef,silver\n\n", 2)]
    [InlineData("batch=thirdPartyId,tier\r\n\r\nabc,gold\r\n\r\n\r\ndef,silver\r\n\r\n", 2)]
    [InlineData("\n\r\n\nbatch=thirdPartyId,tier\nabc,gold\n", 1)] // blank lines before the header
    [InlineData("batch=thirdPartyId,tier\nabc,gold\n\r", 1)] // a lone CR at the very end
    [InlineData("batch=thirdPartyId,tier\nabc,gold\n\r\r\n\r\r", 1)] // CR-only lines
    [InlineData("batch=thirdPartyId,tier\n \n", 1)] // a space is content
    [InlineData("batch=thirdPartyId,tier\n", 0)]
    [InlineData("batch=thirdPartyId,tier", 0)]
    [InlineData("", 0)]
    [InlineData("\n\n", 0)]
    public async Task Blank_lines_and_the_header_are_not_counted_as_rows(string content, long rows)
    {
        var (spool, limit) = await SpoolAsync(Bytes(content));
        await using (spool)
        {
            Assert.Equal(SpoolLimit.None, limit);
            Assert.Equal(rows, spool.Rows);
        }
    }

    [Fact]
    public async Task Byte_limit_is_inclusive()
    {
        var content = RowsFile(10);
        var (atLimit, ok) = await SpoolAsync(content, maxBytes: content.Length);
        await using (atLimit) Assert.Equal(SpoolLimit.None, ok);

        var (overLimit, tooMany) = await SpoolAsync(content, maxBytes: content.Length - 1);
        await using (overLimit) Assert.Equal(SpoolLimit.TooManyBytes, tooMany);
    }

    [Fact]
    public async Task Byte_limit_stops_spooling_early_on_a_large_body()
    {
        var content = new byte[10 * 64 * 1024];
        var (spool, limit) = await SpoolAsync(content, maxBytes: 100_000);
        await using (spool)
        {
            Assert.Equal(SpoolLimit.TooManyBytes, limit);
            Assert.True(spool.Bytes < content.Length, $"read {spool.Bytes} of {content.Length} bytes");
            Assert.True(new FileInfo(spool.Path).Length <= 100_000);
        }
    }

    [Theory]
    [InlineData(5, true)]
    [InlineData(5, false)]
    [InlineData(100_000, true)] // spans many 64 KB reads, so the check made after each read is exercised too
    [InlineData(100_000, false)]
    public async Task Exactly_the_row_limit_is_fine_and_one_more_is_too_many(int rows, bool finalLf)
    {
        var content = RowsFile(rows, finalLf);

        var (atLimit, ok) = await SpoolAsync(content, maxRows: rows);
        await using (atLimit)
        {
            Assert.Equal(SpoolLimit.None, ok);
            Assert.Equal(rows, atLimit.Rows);
        }

        var (overLimit, tooMany) = await SpoolAsync(content, maxRows: rows - 1);
        await using (overLimit) Assert.Equal(SpoolLimit.TooManyRows, tooMany);
    }

    [Fact]
    public async Task Blank_lines_do_not_count_towards_the_row_limit()
    {
        var content = Bytes("batch=pcId,tier\r\n\r\nabc,gold\r\n\r\n\r\n\ndef,silver\r\n\r\n");
        var (spool, limit) = await SpoolAsync(content, maxRows: 2);
        await using (spool)
        {
            Assert.Equal(SpoolLimit.None, limit);
            Assert.Equal(2, spool.Rows);
        }
    }

    [Fact]
    public async Task Row_limit_stops_spooling_early_on_a_large_body()
    {
        var content = RowsFile(200_000);
        var (spool, limit) = await SpoolAsync(content, maxRows: 1000);
        await using (spool)
        {
            Assert.Equal(SpoolLimit.TooManyRows, limit);
            Assert.True(new FileInfo(spool.Path).Length < content.Length / 2);
        }
    }

    [Fact]
    public async Task Temp_file_is_deleted_on_dispose()
    {
        var (spool, _) = await SpoolAsync(RowsFile(3));
        var path = spool.Path;
        Assert.True(File.Exists(path));
        Assert.StartsWith(Path.GetTempPath(), path, StringComparison.Ordinal);

        await spool.DisposeAsync();
        Assert.False(File.Exists(path));
        // Disposing twice is harmless.
        await spool.DisposeAsync();
    }

    [Fact]
    public async Task Temp_file_of_a_refused_body_is_deleted_on_dispose()
    {
        var (spool, limit) = await SpoolAsync(RowsFile(50), maxRows: 3);
        Assert.Equal(SpoolLimit.TooManyRows, limit);
        Assert.True(File.Exists(spool.Path));
        await spool.DisposeAsync();
        Assert.False(File.Exists(spool.Path));
    }

    [Fact]
    public async Task A_header_line_too_long_to_read_whole_is_refused_naming_utf16_when_it_is_and_its_length_otherwise()
    {
        // UTF-16 with CR-only line ends is one line: its header never ends within the 1 MB a header may have. Its start
        // shows what the file is, which is what to fix; a UTF-8 header that long is refused for its length as before.
        static async Task<string?> RefusedAsync(byte[] body)
        {
            var (spool, limit) = await BatchSpool.CreateAsync(new MemoryStream(body), NoLimit, NoLimit, CancellationToken.None,
                checkHeader: line => BatchFileParser.ParseHeader(line.Span, new LimitsOptions()).Error);
            await using (spool)
            {
                Assert.Equal(SpoolLimit.BadHeader, limit);
                return spool.HeaderError;
            }
        }

        var text = "batch=thirdPartyId," + new string('a', LineReader.DefaultMaxLineBytes / 2) + "\rx,1\r";
        var utf16 = new UnicodeEncoding(bigEndian: false, byteOrderMark: false).GetBytes(text);
        Assert.True(utf16.Length > LineReader.DefaultMaxLineBytes);
        Assert.DoesNotContain((byte)'\n', utf16);
        Assert.StartsWith("The file is UTF-16 (little-endian without a byte order mark", await RefusedAsync(utf16), StringComparison.Ordinal);

        var utf8 = Encoding.UTF8.GetBytes(text + new string('a', LineReader.DefaultMaxLineBytes / 2));
        Assert.True(utf8.Length > LineReader.DefaultMaxLineBytes);
        Assert.Equal($"The header line is longer than {LineReader.DefaultMaxLineBytes} bytes.", await RefusedAsync(utf8));
    }

    [Fact]
    public async Task Each_spool_gets_its_own_file()
    {
        var (first, _) = await SpoolAsync(Bytes("batch=pcId,a\nx,1\n"));
        var (second, _) = await SpoolAsync(Bytes("batch=pcId,a\ny,2\n"));
        await using (first)
        await using (second)
        {
            Assert.NotEqual(first.Path, second.Path);
            Assert.Equal("batch=pcId,a\nx,1\n", await File.ReadAllTextAsync(first.Path));
            Assert.Equal("batch=pcId,a\ny,2\n", await File.ReadAllTextAsync(second.Path));
        }
    }

    [Fact]
    public async Task Failing_body_deletes_the_temp_file_and_rethrows()
    {
        var body = new FailingStream();
        await Assert.ThrowsAsync<IOException>(() => BatchSpool.CreateAsync(body, NoLimit, NoLimit, CancellationToken.None));
        // Other spools may exist at the same time (tests run in parallel), so the check is that the file that appeared
        // while this body was being read is gone, not that the temp folder is as before.
        Assert.NotEmpty(body.AppearedWhileReading);
        Assert.Contains(body.AppearedWhileReading, path => !File.Exists(path));
    }

    /// <summary>Hands out some bytes, then fails as an aborted request body does.</summary>
    private sealed class FailingStream : Stream
    {
        private const string Pattern = "profile-batch-*.csv";
        private readonly HashSet<string> _before = [.. Directory.GetFiles(Path.GetTempPath(), Pattern)];
        private bool _served;

        public List<string> AppearedWhileReading { get; } = [];

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_served)
            {
                AppearedWhileReading.AddRange(Directory.GetFiles(Path.GetTempPath(), Pattern).Where(f => !_before.Contains(f)));
                throw new IOException("The client went away.");
            }
            _served = true;
            "batch=pcId,a\nx,1\n"u8.CopyTo(buffer);
            return 17;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
