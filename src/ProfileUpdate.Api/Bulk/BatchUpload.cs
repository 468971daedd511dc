using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using ProfileUpdate.Api.Http;

namespace ProfileUpdate.Api.Bulk;

/// <summary>
/// Where the batch file is in a bulk request's body: the body itself for curl's <c>--data-binary</c> (labelled
/// form-urlencoded but not form-decoded here), CSV, text or octet-stream; or the one file part of a multipart/form-data
/// upload (Swagger UI, <c>curl -F file=@batch.csv</c>). The file limit is the file's: the spool counts the file's bytes,
/// and a multipart body may be larger than the file by its envelope, within <see cref="MaxEnvelopeBytes"/>.
/// </summary>
[SuppressMessage("Reliability", "CA1001", Justification = "Its stream wraps the request body, which the server owns and disposes; disposing the wrapper would free nothing.")]
internal sealed class BatchUpload
{
    /// <summary>
    /// What a multipart/form-data body may hold besides the batch file: the boundary lines, the part headers (a
    /// Content-Disposition with the file name, a Content-Type) and small form fields a form or script adds. curl -F's
    /// envelope is about 200 bytes and Swagger UI's about the same; 64 KB leaves room for long file names and a few
    /// fields while keeping a body at most this much above the file limit, so memory, spool and drain stay bounded.
    /// </summary>
    public const int MaxEnvelopeBytes = 64 * 1024;

    private static readonly string[] RawContentTypes =
        ["application/x-www-form-urlencoded", "text/csv", "text/plain", "application/octet-stream"];

    private readonly HttpRequest _request;
    private readonly LimitsOptions _limits;
    private readonly string _nothing;
    private readonly string? _boundary;
    private RequestBodyLimitStream? _meter;
    private MultipartReader? _reader;

    private BatchUpload(HttpRequest request, LimitsOptions limits, string nothing, string? boundary) =>
        (_request, _limits, _nothing, _boundary) = (request, limits, nothing, boundary);

    /// <summary>The file is a part of a multipart/form-data body.</summary>
    public bool IsMultipart => _boundary is not null;

    /// <summary>The largest body that can carry a file under the limit: the file's largest size, plus the envelope for multipart.</summary>
    public long MaxBodyBytes => _limits.MaxBatchBytes - 1 + (IsMultipart ? MaxEnvelopeBytes : 0);

    /// <summary>The multipart body went past <see cref="MaxBodyBytes"/> while it was read (the read threw a 413).</summary>
    public bool BodyExceeded => _meter?.Exceeded == true;

    /// <summary>The upload, or why its Content-Type is refused (415, or 400 for a multipart body without a boundary).</summary>
    /// <param name="nothing">The endpoint's "nothing happened" sentence, ending each refusal this class words.</param>
    public static (BatchUpload? Upload, ProblemHttpResult? Error) Of(HttpRequest request, LimitsOptions limits, string nothing)
    {
        var contentType = request.ContentType;
        if (string.IsNullOrEmpty(contentType)) return (new BatchUpload(request, limits, nothing, null), null);
        if (!MediaTypeHeaderValue.TryParse(contentType, out var media))
            return (null, Problems.Create(StatusCodes.Status415UnsupportedMediaType, "The Content-Type header cannot be parsed."));
        var mediaType = media.MediaType.Value ?? string.Empty;
        if (RawContentTypes.Contains(mediaType, StringComparer.OrdinalIgnoreCase)) return (new BatchUpload(request, limits, nothing, null), null);
        if (mediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            var boundary = HeaderUtilities.RemoveQuotes(media.Boundary).Value;
            return string.IsNullOrEmpty(boundary)
                ? (null, Problems.BadRequest("The multipart/form-data body has no boundary."))
                : (new BatchUpload(request, limits, nothing, boundary), null);
        }
        return (null, Problems.Create(StatusCodes.Status415UnsupportedMediaType,
            $"Content-Type '{mediaType}' is not accepted; send the batch file raw (curl --data-binary @file), as text/csv, or as a multipart/form-data file upload."));
    }

    /// <summary>
    /// The file's bytes: the body, or the first file part (form fields before it are read past). Reading it may throw
    /// <see cref="BadHttpRequestException"/> 413 once a multipart body passes <see cref="MaxBodyBytes"/>.
    /// </summary>
    public async Task<(Stream? File, ProblemHttpResult? Error)> OpenFileAsync(CancellationToken cancellationToken)
    {
        if (_boundary is null) return (_request.Body, null);
        // Every byte of the body is counted, not just the file's: a chunked body has no Kestrel limit (see SubmitAsync),
        // and fields before or after the file must not make it unbounded.
        _meter = new RequestBodyLimitStream(_request.Body, MaxBodyBytes);
        _reader = new MultipartReader(_boundary, _meter) { BodyLengthLimit = null };
        while (await _reader.ReadNextSectionAsync(cancellationToken) is { } section)
        {
            if (IsFile(section)) return (section.Body, null);
        }
        return (null, Problems.BadRequest("The multipart/form-data body has no file part; upload the batch file as a file." + _nothing));
    }

    /// <summary>
    /// After the file was spooled within the limits (<paramref name="fileBytes"/>): the rest of a multipart body is read to
    /// its end, so that a second file part is refused (400: one batch per request, never one silently dropped) and the
    /// envelope is measured (413 past <see cref="MaxEnvelopeBytes"/>); form fields after the file are fine. Null: accept.
    /// </summary>
    public async Task<ProblemHttpResult?> FinishAsync(long fileBytes, CancellationToken cancellationToken)
    {
        if (_reader is null || _meter is null) return null;
        try
        {
            while (await _reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (IsFile(section))
                    return Problems.BadRequest(
                        "The multipart/form-data body holds more than one file part; upload one batch file per request (other form fields are fine)." + _nothing);
            }
            // Whatever follows the closing boundary, counted too: the envelope is everything in the body but the file.
            await _meter.CopyToAsync(Stream.Null, cancellationToken);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge && _meter.Exceeded)
        {
            return EnvelopeTooLarge();
        }
        return _meter.Bytes - fileBytes > MaxEnvelopeBytes ? EnvelopeTooLarge() : null;
    }

    /// <summary>
    /// A multipart body larger than a file under the limit with its largest envelope, or one whose envelope alone is
    /// larger: which of the two cannot always be told before the end, so the answer names both.
    /// </summary>
    public ProblemHttpResult EnvelopeTooLarge() =>
        Problems.Create(StatusCodes.Status413PayloadTooLarge,
            $"The batch file must be smaller than {_limits.MaxBatchBytes} bytes, and a multipart/form-data upload may hold at most " +
            $"{MaxEnvelopeBytes} bytes besides it (boundaries, part headers, other form fields); this body is larger. Split the file " +
            "into several files, and send it alone (curl -F file=@batch.csv) or raw (curl --data-binary @batch.csv)." + _nothing);

    private static bool IsFile(MultipartSection section) =>
        ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) && disposition.IsFileDisposition();
}
