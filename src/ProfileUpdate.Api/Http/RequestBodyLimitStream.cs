namespace ProfileUpdate.Api.Http;

/// <summary>
/// A request body read through a count of its bytes, refused (<see cref="BadHttpRequestException"/> 413) once the count
/// passes <paramref name="maxBytes"/>. For bodies parsed by a reader that hands on only part of what it reads (a multipart
/// reader reads boundaries, part headers and other fields around the part it yields): the count is every byte read from
/// the body, whatever the framing, so a chunked body is bounded the same as one with Content-Length.
/// </summary>
public sealed class RequestBodyLimitStream(Stream body, long maxBytes) : Stream
{
    /// <summary>Body bytes read so far.</summary>
    public long Bytes { get; private set; }

    /// <summary>The body went past the limit (the read that found it threw).</summary>
    public bool Exceeded { get; private set; }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => Bytes;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Count(body.Read(buffer, offset, count));

    public override int Read(Span<byte> buffer) => Count(body.Read(buffer));

    public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Count(await body.ReadAsync(buffer.AsMemory(offset, count), cancellationToken));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await body.ReadAsync(buffer, cancellationToken));

    private int Count(int read)
    {
        Bytes += read;
        if (Bytes > maxBytes)
        {
            Exceeded = true;
            throw new BadHttpRequestException($"The request body is larger than {maxBytes} bytes.", StatusCodes.Status413PayloadTooLarge);
        }
        return read;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
