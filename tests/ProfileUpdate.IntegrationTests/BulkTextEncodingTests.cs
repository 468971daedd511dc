using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Xml.Linq;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using ProfileUpdate.Api.Configuration;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// A bulk body that is not UTF-8 text (docs/api.md §2, whole-file errors): UTF-16 with or without its byte order mark,
/// UTF-32, or a NUL byte in the header line → 400 saying what the file is and what to do, on every bulk endpoint and
/// however the body arrives, and nothing kept: no batch status, no spool file, no profile written or erased. On real
/// Redis, whose keys the tests scan for the batch's records.
/// </summary>
public sealed class BulkTextEncodingTests(BulkTextEncodingFixture fixture) : IClassFixture<BulkTextEncodingFixture>
{
    private readonly HttpClient _http = fixture.Client;

    private void SkipWithoutStore() => Skip.If(fixture.SkipReason is not null, fixture.SkipReason);

    /// <summary>The bulk endpoints, with the file each is sent (the id column alone for an erase) and its refusals' last words.</summary>
    private static readonly (string Path, string Header, string Nothing)[] Endpoints =
    [
        ("profile/batchUpdate", "batch=thirdPartyId,tier", " Nothing was applied."),
        ("v2/profile/batchUpdate", "batch=thirdPartyId,tier", " Nothing was applied."),
        ("v2/profile/batchDelete", "batch=thirdPartyId", " Nothing was deleted."),
    ];

    /// <summary>Posts <paramref name="content"/> and returns the 400's message, checked to be a refusal of the whole file.</summary>
    private async Task<string> RefusedAsync(string client, string path, HttpContent content)
    {
        using var response = await Wire.PostBatchAndWaitAsync(_http, $"/m2/{client}/{path}", content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path}: {(int)response.StatusCode} {body}");
        var xml = XElement.Parse(body);
        Assert.Equal("false", xml.Element("success")!.Value);
        Assert.Equal(string.Empty, xml.Element("batchStatus")!.Value);
        return xml.Element("message")!.Value;
    }

    /// <summary>No batch of <paramref name="client"/> was recorded or left in the spool.</summary>
    private async Task AssertNoBatchAsync(string client)
    {
        // Status and failed-row records (pu:b:{client:batchId}, pu:bf:…); the batch id starts with the client code, and
        // so does its spool file's name.
        Assert.Empty(await fixture.KeysAsync($"pu:b:{{{client}:*"));
        Assert.Empty(await fixture.KeysAsync($"pu:bf:{{{client}:*"));
        var spool = fixture.Services.GetRequiredService<IOptions<ProfileUpdateOptions>>().Value.Bulk.SpoolDirectory;
        Assert.Empty(Directory.Exists(spool) ? Directory.GetFiles(spool, client + "-*") : []);
    }

    private static byte[] Bytes(Encoding encoding, string text) => [.. encoding.GetPreamble(), .. encoding.GetBytes(text)];

    private static ByteArrayContent Raw(byte[] body)
    {
        var content = new ByteArrayContent(body);
        // What curl --data-binary sends.
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        return content;
    }

    [SkippableTheory]
    [InlineData(16, false, true, "The file is UTF-16 (little-endian, it starts with a UTF-16 byte order mark)")]
    [InlineData(16, true, true, "The file is UTF-16 (big-endian, it starts with a UTF-16 byte order mark)")]
    [InlineData(16, false, false, "The file is UTF-16 (little-endian without a byte order mark: every other byte of its header line is a NUL)")]
    [InlineData(16, true, false, "The file is UTF-16 (big-endian without a byte order mark: every other byte of its header line is a NUL)")]
    [InlineData(32, false, true, "The file is UTF-32 (little-endian, it starts with a UTF-32 byte order mark)")]
    public async Task A_utf16_or_utf32_body_is_400_saying_so_on_every_bulk_endpoint_and_nothing_is_kept(int bits, bool bigEndian, bool bom, string what)
    {
        SkipWithoutStore();
        Encoding encoding = bits == 16 ? new UnicodeEncoding(bigEndian, bom) : new UTF32Encoding(bigEndian, bom);
        var client = Wire.NewClient();
        // Known to the erase, so that erasing it would show; unknown to the updates, so that creating it would.
        await Wire.VisitAsync(_http, client, thirdPartyId: "stays");
        foreach (var (path, header, nothing) in Endpoints)
        {
            var file = header.Contains(',', StringComparison.Ordinal) ? $"{header}\r\nnew-1,gold\r\n" : $"{header}\r\nstays\r\n";
            var message = await RefusedAsync(client, path, Raw(Bytes(encoding, file)));
            Assert.StartsWith(what + "; a batch file must be UTF-8 (a UTF-8 byte order mark is fine). Save it as UTF-8", message, StringComparison.Ordinal);
            Assert.EndsWith(nothing, message, StringComparison.Ordinal);
        }
        await AssertNoBatchAsync(client);
        Assert.Null(await Wire.ReadByThirdPartyAsync(_http, client, "new-1"));
        Assert.NotNull(await Wire.ReadByThirdPartyAsync(_http, client, "stays"));
    }

    [SkippableFact]
    public async Task A_utf16_body_sent_in_small_chunks_or_as_a_multipart_upload_gets_the_same_400()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        // Checked as the bytes arrive, whatever their framing: eight-byte chunks cut the header line many times.
        var body = Bytes(new UnicodeEncoding(bigEndian: false, byteOrderMark: false), "batch=thirdPartyId,tier\nnew-1,gold\n");
        var chunked = await RefusedAsync(client, "v2/profile/batchUpdate", new SmallChunksContent(body));
        Assert.StartsWith("The file is UTF-16 (little-endian without a byte order mark", chunked, StringComparison.Ordinal);

        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Bytes(Encoding.BigEndianUnicode, "batch=thirdPartyId,tier\nnew-1,gold\n"));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        form.Add(file, "file", "batch.csv");
        var multipart = await RefusedAsync(client, "v2/profile/batchUpdate", form);
        Assert.StartsWith("The file is UTF-16 (big-endian, it starts with a UTF-16 byte order mark)", multipart, StringComparison.Ordinal);

        await AssertNoBatchAsync(client);
        Assert.Null(await Wire.ReadByThirdPartyAsync(_http, client, "new-1"));
    }

    [SkippableFact]
    public async Task A_nul_byte_in_the_header_line_is_400_naming_it_while_one_in_a_row_fails_only_that_row()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        await Wire.VisitAsync(_http, client, thirdPartyId: "stays");
        foreach (var (path, header, nothing) in Endpoints)
        {
            // After blank lines (the header is the first non-blank line) and a UTF-8 BOM, which is fine.
            var message = await RefusedAsync(client, path, Raw([.. "\r\n\n"u8, 0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes($"{header}\0\nstays\n")]));
            Assert.Equal($"The header line holds a NUL byte (byte {3 + header.Length + 1} of the line); a batch file is UTF-8 text, which has none there. " +
                         "A file saved as UTF-16 or UTF-32 (\"Unicode\") has NUL bytes: save it as UTF-8." + nothing, message);
        }
        await AssertNoBatchAsync(client);
        Assert.NotNull(await Wire.ReadByThirdPartyAsync(_http, client, "stays"));

        // In a row, a NUL is a control character in a value: that row fails with its line, the others apply.
        using var response = await Wire.PostBatchAndWaitAsync(_http, $"/m2/{client}/v2/profile/batchUpdate",
            Raw(Encoding.UTF8.GetBytes("batch=thirdPartyId,tier\nrow-1,go\0ld\nrow-2,gold\n")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var status = XElement.Parse(await _http.GetStringAsync(
            new Uri(XElement.Parse(await response.Content.ReadAsStringAsync()).Element("batchStatus")!.Value).PathAndQuery + "&showDetails=true"));
        Assert.Equal(("complete", "1", "1"), (status.Element("status")!.Value, status.Element("successfulUpdates")!.Value, status.Element("failedUpdates")!.Value));
        var failed = Assert.Single(status.Elements("profile"));
        Assert.Equal(("row-1", "2"), (failed.Element("id")!.Value, failed.Element("row")!.Value));
        Assert.Contains("control character", failed.Element("message")!.Value, StringComparison.Ordinal);
        Assert.Equal("gold", Wire.Attribute((await Wire.ReadByThirdPartyAsync(_http, client, "row-2"))!.Value, "tier"));
        // The batch accepted is found where AssertNoBatchAsync looks: its emptiness above was not for looking elsewhere.
        Assert.NotEmpty(await fixture.KeysAsync($"pu:b:{{{client}:*"));
    }
}

public sealed class BulkTextEncodingFixture() : StoreServiceFixture(StoreKind.Redis);
