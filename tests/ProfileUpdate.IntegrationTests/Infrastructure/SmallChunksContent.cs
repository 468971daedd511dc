using System.Net;

namespace ProfileUpdate.IntegrationTests.Infrastructure;

/// <summary>
/// A body sent with Transfer-Encoding: chunked, one <paramref name="chunkBytes"/>-byte chunk per write: framing that adds
/// up to more than the body's own bytes with small chunks (Kestrel once counted it against the body limits).
/// </summary>
public sealed class SmallChunksContent(byte[] body, int chunkBytes = 8) : HttpContent
{
    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        for (var i = 0; i < body.Length; i += chunkBytes)
        {
            await stream.WriteAsync(body.AsMemory(i, Math.Min(chunkBytes, body.Length - i)));
            await stream.FlushAsync();
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false; // no Content-Length: chunked
    }
}
