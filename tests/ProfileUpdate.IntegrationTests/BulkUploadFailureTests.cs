using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Xml.Linq;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// How a batch upload is measured and stored (docs/api.md §2): the size limit counts the body's bytes whatever its
/// framing, and a spool the server cannot write is the server's failure (503), not the client's (400). Each test has a
/// service of its own: one a 1,024-byte limit, the other a spool it breaks.
/// </summary>
public sealed class BulkUploadFailureTests
{
    /// <summary>
    /// A batch file of exactly <paramref name="bytes"/> bytes: the header, rows r0000…, a last row padding it; with
    /// <paramref name="erase"/> a batchDelete list (the id column alone, the last id padded).
    /// </summary>
    private static byte[] BatchOf(int bytes, bool erase = false)
    {
        var file = new StringBuilder(erase ? "batch=thirdPartyId\n" : "batch=thirdPartyId,a\n");
        for (var i = 0; file.Length + 8 + 7 <= bytes; i++) file.Append(System.Globalization.CultureInfo.InvariantCulture, $"r{i:D4}{(erase ? "" : ",x")}\n");
        var last = erase ? "last" : "last,";
        var pad = bytes - file.Length - last.Length - 1;
        file.Append(last).Append('v', pad).Append('\n');
        Assert.Equal(bytes, file.Length);
        return Encoding.ASCII.GetBytes(file.ToString());
    }

    private static async Task<(HttpStatusCode Status, XElement Xml, HttpResponseMessage Response)> PostAsync(HttpClient http, string client, HttpContent content,
        string endpoint = "batchUpdate")
    {
        var response = await Wire.PostBatchAndWaitAsync(http, $"/m2/{client}/v2/profile/{endpoint}", content);
        return (response.StatusCode, XElement.Parse(await response.Content.ReadAsStringAsync()), response);
    }

    [SkippableFact]
    public async Task A_chunked_body_under_the_limit_is_accepted_in_any_chunks_and_one_at_the_limit_gets_the_same_413()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        await using var service = new SmallLimitService();
        var http = service.Http;

        // 1,023 body bytes in 128 chunks: ~1,700 bytes on the wire, which Kestrel's own limit counted.
        var client = Wire.NewClient();
        var (status, xml, response) = await PostAsync(http, client, new SmallChunksContent(BatchOf(1023)));
        Assert.True(status == HttpStatusCode.OK, xml.ToString());
        Assert.Equal("x", Wire.Attribute((await Wire.ReadByThirdPartyAsync(http, client, "r0000"))!.Value, "a"));
        Assert.NotNull(await Wire.ReadByThirdPartyAsync(http, client, "last"));

        // 1,024 body bytes, chunked or not: the limit's own 413, nothing applied.
        foreach (var content in new HttpContent[] { new SmallChunksContent(BatchOf(1024)), new ByteArrayContent(BatchOf(1024)) })
        {
            client = Wire.NewClient();
            (status, xml, _) = await PostAsync(http, client, content);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
            Assert.Equal("The batch file must be smaller than 1024 bytes; split it into several files. Nothing was applied.", xml.Element("message")!.Value);
            Assert.Null(await Wire.ReadByThirdPartyAsync(http, client, "r0000"));
        }
    }

    /// <summary>A multipart/form-data body as HttpClient writes it (curl -F is alike): file parts (with a file name) and fields.</summary>
    private static async Task<(byte[] Body, MediaTypeHeaderValue Type)> MultipartAsync(params (string Name, string? FileName, byte[] Bytes)[] parts)
    {
        using var form = new MultipartFormDataContent();
        foreach (var (name, fileName, bytes) in parts)
        {
            var part = new ByteArrayContent(bytes);
            if (fileName is null)
            {
                form.Add(part, name);
                continue;
            }
            part.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
            form.Add(part, name, fileName);
        }
        return (await form.ReadAsByteArrayAsync(), form.Headers.ContentType!);
    }

    /// <summary>The body with Content-Length, or chunked in <paramref name="chunkBytes"/>-byte chunks.</summary>
    private static HttpContent Framed((byte[] Body, MediaTypeHeaderValue Type) multipart, bool chunked, int chunkBytes = 8)
    {
        HttpContent content = chunked ? new SmallChunksContent(multipart.Body, chunkBytes) : new ByteArrayContent(multipart.Body);
        content.Headers.ContentType = multipart.Type;
        return content;
    }

    private const string TooLarge = "The batch file must be smaller than 1024 bytes; split it into several files. Nothing was applied.";

    [SkippableFact]
    public async Task A_multipart_upload_is_measured_by_its_file_so_a_file_under_the_limit_is_accepted_and_one_at_it_gets_the_same_413()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        await using var service = new SmallLimitService();
        var http = service.Http;

        foreach (var chunked in new[] { false, true })
        {
            // 1,023 file bytes: the body with its envelope is over the limit, which counts the file alone.
            var under = await MultipartAsync(("file", "batch.csv", BatchOf(1023)));
            Assert.True(under.Body.Length > 1024);
            var client = Wire.NewClient();
            var (status, xml, _) = await PostAsync(http, client, Framed(under, chunked));
            Assert.True(status == HttpStatusCode.OK, $"chunked {chunked}: {xml}");
            Assert.Equal("x", Wire.Attribute((await Wire.ReadByThirdPartyAsync(http, client, "r0000"))!.Value, "a"));
            Assert.NotNull(await Wire.ReadByThirdPartyAsync(http, client, "last"));

            // 1,024 file bytes: the limit's own 413, as for the same file sent raw; nothing applied.
            client = Wire.NewClient();
            (status, xml, _) = await PostAsync(http, client, Framed(await MultipartAsync(("file", "batch.csv", BatchOf(1024))), chunked));
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
            Assert.Equal(TooLarge, xml.Element("message")!.Value);
            Assert.Null(await Wire.ReadByThirdPartyAsync(http, client, "r0000"));

            // Bulk erase is measured the same way.
            client = Wire.NewClient();
            (status, xml, _) = await PostAsync(http, client, Framed(await MultipartAsync(("file", "erase.csv", BatchOf(1023, erase: true))), chunked), "batchDelete");
            Assert.True(status == HttpStatusCode.OK, $"chunked {chunked}: {xml}");
            (status, xml, _) = await PostAsync(http, client, Framed(await MultipartAsync(("file", "erase.csv", BatchOf(1024, erase: true))), chunked), "batchDelete");
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
            Assert.Equal("The batch file must be smaller than 1024 bytes; split it into several files. Nothing was deleted.", xml.Element("message")!.Value);
        }
    }

    [SkippableFact]
    public async Task Multipart_fields_around_the_file_are_fine_a_second_file_is_400_and_the_envelope_is_bounded()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        await using var service = new SmallLimitService();
        var http = service.Http;
        var small = "batch=thirdPartyId,a\nr0000,x\n"u8.ToArray();
        const string envelope = "The batch file must be smaller than 1024 bytes, and a multipart/form-data upload may hold at most 65536 bytes besides it";

        foreach (var chunked in new[] { false, true })
        {
            // Form fields before and after the file are read past and ignored.
            var client = Wire.NewClient();
            var (status, xml, _) = await PostAsync(http, client, Framed(await MultipartAsync(
                ("note", null, "before"u8.ToArray()), ("file", "batch.csv", BatchOf(1023)), ("after", null, "after"u8.ToArray())), chunked));
            Assert.True(status == HttpStatusCode.OK, $"chunked {chunked}: {xml}");
            Assert.NotNull(await Wire.ReadByThirdPartyAsync(http, client, "last"));

            // A second file part: the whole upload refused, the first file's rows not applied either.
            client = Wire.NewClient();
            (status, xml, _) = await PostAsync(http, client, Framed(await MultipartAsync(
                ("file", "a.csv", small), ("note", null, "between"u8.ToArray()), ("file", "b.csv", "batch=thirdPartyId,a\nr0001,y\n"u8.ToArray())), chunked));
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal("The multipart/form-data body holds more than one file part; upload one batch file per request (other form fields are fine). Nothing was applied.",
                xml.Element("message")!.Value);
            Assert.Null(await Wire.ReadByThirdPartyAsync(http, client, "r0000"));

            // An envelope just over 64 KB around a small file: the body could hold a file under the limit, so it is read,
            // and the envelope is what it refuses. Then a field so large the body is refused by its size (Content-Length:
            // before it is read) wherever the field is.
            var bodies = new[]
            {
                await MultipartAsync(("file", "batch.csv", small), ("note", null, new byte[65_536])),
                await MultipartAsync(("note", null, new byte[80_000]), ("file", "batch.csv", small)),
                await MultipartAsync(("file", "batch.csv", small), ("note", null, new byte[80_000])),
            };
            Assert.InRange(bodies[0].Body.Length, 65_536 + small.Length, 1023 + 65_536);
            foreach (var body in bodies)
            {
                client = Wire.NewClient();
                (status, xml, _) = await PostAsync(http, client, Framed(body, chunked, chunkBytes: 1024));
                Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
                Assert.StartsWith(envelope, xml.Element("message")!.Value, StringComparison.Ordinal);
                Assert.EndsWith("Nothing was applied.", xml.Element("message")!.Value, StringComparison.Ordinal);
                Assert.Null(await Wire.ReadByThirdPartyAsync(http, client, "r0000"));
            }
        }
    }

    [SkippableFact]
    public async Task A_spool_that_cannot_be_written_answers_503_with_retry_after_and_keeps_nothing()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        using var redis = new RedisServer();
        await using var factory = new ServiceFactory(redis.ConnectionString);
        using var http = factory.CreateHttpClient();
        var spool = factory.SpoolDirectory;
        Assert.True(Directory.Exists(spool)); // made at start-up
        try
        {
            // The spool directory gone, then a file where it should be: the server cannot store an upload either way.
            foreach (var breakIt in new Action[] { () => Directory.Delete(spool, recursive: true), () => File.WriteAllText(spool, "not a directory") })
            {
                breakIt();
                var client = Wire.NewClient();
                var (status, xml, response) = await PostAsync(http, client, new StringContent("batch=thirdPartyId,a\nbroken-1,x\n"));
                Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
                Assert.NotNull(response.Headers.RetryAfter?.Delta);
                Assert.Equal("false", xml.Element("success")!.Value);
                Assert.StartsWith("The server could not store the upload", xml.Element("message")!.Value, StringComparison.Ordinal);
                Assert.Null(await Wire.ReadByThirdPartyAsync(http, client, "broken-1"));
            }
        }
        finally
        {
            if (File.Exists(spool)) File.Delete(spool);
            Directory.CreateDirectory(spool);
        }

        // Repaired, the same upload is stored and applied; nothing of the failed ones was left behind.
        var again = Wire.NewClient();
        var (okStatus, _, _) = await PostAsync(http, again, new StringContent("batch=thirdPartyId,a\nbroken-1,x\n"));
        Assert.Equal(HttpStatusCode.OK, okStatus);
        Assert.Equal("x", Wire.Attribute((await Wire.ReadByThirdPartyAsync(http, again, "broken-1"))!.Value, "a"));
        Assert.Empty(Directory.GetFiles(spool));
    }

    /// <summary>A service of its own with a 1,024-byte batch limit, on a Redis of its own: small files keep the tests fast.</summary>
    private sealed class SmallLimitService : IAsyncDisposable
    {
        private readonly RedisServer _redis = new();
        private readonly ServiceFactory _factory;

        public SmallLimitService()
        {
            _factory = new ServiceFactory(_redis.ConnectionString, new Dictionary<string, string?> { ["ProfileUpdate:Limits:MaxBatchBytes"] = "1024" });
            Http = _factory.CreateHttpClient();
        }

        public HttpClient Http { get; }

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await _factory.DisposeAsync();
            _redis.Dispose();
        }
    }
}
