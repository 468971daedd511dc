using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace ProfileUpdate.Api.Http;

/// <summary>Reads a small request body whole, refusing it once it passes a limit (with Content-Length or chunked).</summary>
public static class RequestBody
{
    /// <summary>Sets this request's body limit in Kestrel (its server-wide default is lower than the bulk API's 50 MB); null: none.</summary>
    public static void AllowBodyOf(HttpContext context, long? maxBytes)
    {
        var sizeFeature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false }) sizeFeature.MaxRequestBodySize = maxBytes;
    }

    /// <summary>The body bytes, or null when it is larger than <paramref name="maxBytes"/>.</summary>
    public static async Task<byte[]?> ReadAtMostAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes) return null;
        // With Content-Length, Kestrel's own limit is the body's. A chunked body gets none: Kestrel counts the chunk framing
        // against it (a body under the limit in small chunks was refused), so the count of body bytes below is the limit.
        AllowBodyOf(request.HttpContext, request.ContentLength is null ? null : maxBytes);

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
