using System.Net;
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
    /// <summary>A batch file of exactly <paramref name="bytes"/> bytes: the header, rows r0000…, a last row padding it.</summary>
    private static byte[] BatchOf(int bytes)
    {
        var file = new StringBuilder("batch=thirdPartyId,a\n");
        for (var i = 0; file.Length + 8 + 7 <= bytes; i++) file.Append(System.Globalization.CultureInfo.InvariantCulture, $"r{i:D4},x\n");
        var pad = bytes - file.Length - "last,\n".Length;
        file.Append("last,").Append('v', pad).Append('\n');
        Assert.Equal(bytes, file.Length);
        return Encoding.ASCII.GetBytes(file.ToString());
    }

    private static async Task<(HttpStatusCode Status, XElement Xml, HttpResponseMessage Response)> PostAsync(HttpClient http, string client, HttpContent content)
    {
        var response = await Wire.PostBatchAndWaitAsync(http, $"/m2/{client}/v2/profile/batchUpdate", content);
        return (response.StatusCode, XElement.Parse(await response.Content.ReadAsStringAsync()), response);
    }

    [SkippableFact]
    public async Task A_chunked_body_under_the_limit_is_accepted_in_any_chunks_and_one_at_the_limit_gets_the_same_413()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        using var redis = new RedisServer();
        await using var factory = new ServiceFactory(redis.ConnectionString,
            new Dictionary<string, string?> { ["ProfileUpdate:Limits:MaxBatchBytes"] = "1024" });
        using var http = factory.CreateHttpClient();

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
}
