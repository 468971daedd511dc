using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace ProfileUpdate.Api.Http;

/// <summary>Reads a small request body whole, refusing it once it passes a limit (with Content-Length or chunked).</summary>
public static class RequestBody
{
    /// <summary>The body bytes, or null when it is larger than <paramref name="maxBytes"/>.</summary>
    public static async Task<byte[]?> ReadAtMostAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes) return null;
        var sizeFeature = request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false }) sizeFeature.MaxRequestBodySize = maxBytes;

        var reader = request.BodyReader;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync(cancellationToken);
                var buffer = result.Buffer;
                if (buffer.Length > maxBytes)
                {
                    reader.AdvanceTo(buffer.End);
                    return null;
                }
                if (result.IsCompleted)
                {
                    var bytes = buffer.ToArray();
                    reader.AdvanceTo(buffer.End);
                    return bytes;
                }
                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return null;
        }
    }
}
