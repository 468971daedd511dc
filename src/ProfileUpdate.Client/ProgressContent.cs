using System.Net;

namespace ProfileUpdate.Client;

/// <summary>
/// A stream as a request body that reports the bytes sent. A seekable stream is rewound on every send, so a retry after
/// 429/503 sends the whole body again.
/// </summary>
internal sealed class ProgressContent(Stream source, IProgress<long>? progress) : HttpContent
{
    private readonly long _start = source.CanSeek ? source.Position : 0;
    private bool _sent;

    /// <summary>When the last byte of the body was written (<see cref="System.Diagnostics.Stopwatch"/> ticks); null before.</summary>
    public long? SentAt { get; private set; }

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        await SerializeToStreamAsync(stream, context, CancellationToken.None).ConfigureAwait(false);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        if (_sent)
        {
            if (!source.CanSeek) throw new InvalidOperationException("The batch stream cannot be rewound to be sent again.");
            source.Position = _start;
        }
        _sent = true;
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
            total += read;
            progress?.Report(total);
        }
        SentAt = System.Diagnostics.Stopwatch.GetTimestamp();
    }

    protected override bool TryComputeLength(out long length)
    {
        length = source.CanSeek ? source.Length - _start : 0;
        return source.CanSeek;
    }
}
