using System.Text;
using CsCheck;
using ProfileUpdate.Api.Text;
using ProfileUpdate.Api.Bulk;
using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Tests.Bulk;

/// <summary>Properties of the batch file parser, line reader and spool, checked on generated samples (CsCheck prints a seed on failure).</summary>
public sealed class BatchFilePropertyTests
{
    private const int Iterations = 20_000;

    private static readonly LimitsOptions Limits = new();

    private static readonly byte[] Alphabet =
        [.. "%+,&=\r\naZ09fF/ .-_"u8, 0x00, 0x09, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xB6, 0xE6, 0x9D, 0xED, 0xA0, 0xEF, 0xBB, 0xF0, 0x9F, 0x98, 0xF4, 0xFF];

    /// <summary>Arbitrary bytes; bytes rich in separators, escapes and UTF-8 lead/continuation bytes; and glued escapes.</summary>
    private static readonly Gen<byte[]> AnyBytes = Gen.OneOf<byte[]>(
        Gen.Byte.Array,
        Gen.OneOf(Alphabet).Array,
        Gen.Select(Gen.OneOf("%", "+", ",", "a", "/"), Gen.Byte).Select(t => t.Item1 == "%" ? $"%{t.Item2:X2}" : t.Item1)
            .Array.Select(parts => Encoding.ASCII.GetBytes(string.Concat(parts))));

    private static readonly Gen<string> IdColumn =
        Gen.OneOf("pcId", "thirdPartyId", "PCID", "thirdpartyid", "ecid", "mcId", "tntId", "", "thirdParty%49d", "pc%2");

    /// <summary>Header lines: arbitrary bytes, or "batch=" (maybe after a BOM) then an id column and arbitrary bytes.</summary>
    private static readonly Gen<byte[]> HeaderLines = Gen.OneOf<byte[]>(
        AnyBytes,
        Gen.Select(Gen.Bool, IdColumn, AnyBytes, Gen.Bool).Select((bom, id, rest, comma) =>
        {
            byte[] line = [.. bom ? "\uFEFF"u8 : ""u8, .. "batch="u8, .. Encoding.ASCII.GetBytes(id), .. comma ? ","u8 : ""u8, .. rest];
            return line;
        }));

    /// <summary>A header the rows are parsed against: either id kind, one to six distinct attribute names.</summary>
    private static readonly Gen<BatchHeader> Headers =
        Gen.Select(Gen.OneOf(IdentityKind.TntId, IdentityKind.ThirdPartyId), Gen.Int[1, 6])
            .Select((kind, count) => new BatchHeader(kind, Enumerable.Range(0, count).Select(i => $"attr{i}").ToList()));

    /// <summary>Well-formed text (no lone surrogates) without control characters except tab, CR and LF, biased to the interesting ones.</summary>
    private static readonly Gen<string> ValueText = Gen.OneOf(
            Gen.Int[0x20, 0x10FFFF].Where(c => c is < 0xD800 or > 0xDFFF && !char.IsControl(char.ConvertFromUtf32(c), 0)),
            Gen.OneOf<int>('%', '+', ',', '&', '=', ' ', '/', '?', '#', '\t', '\r', '\n', 'ö', '東', 0x1F600, 0xFEFF, 0xFFFD))
        .Array[0, 16]
        .Select(codes => string.Concat(codes.Select(char.ConvertFromUtf32)));

    private static readonly Gen<string> ThirdPartyIds =
        ValueText.Where(id => id.Length > 0 && VisitorIds.ValidateThirdPartyId(id, "thirdPartyId") is null);

    private static readonly Gen<string> TntIds =
        Gen.Select(Gen.Char["abcdefABCDEF0123456789-_"].Array[1, 40], Gen.OneOf("", ".28_0", ".35_1"))
            .Select((chars, hint) => new string(chars) + hint);

    private static string Encode(string text, bool spaceAsPlus)
    {
        var encoded = Uri.EscapeDataString(text);
        return spaceAsPlus ? encoded.Replace("%20", "+", StringComparison.Ordinal) : encoded;
    }

    [Fact]
    public void ParseHeader_on_any_bytes_returns_a_valid_header_or_an_error_and_never_throws()
    {
        Gen.Select(HeaderLines, Gen.Int[1, 300]).Sample((line, maxName) =>
        {
            var limits = new LimitsOptions { MaxNameLength = maxName };
            var (header, error) = BatchFileParser.ParseHeader(line, limits);
            Assert.True((header is null) != (error is null), "exactly one of header and error");
            if (error is not null)
            {
                Assert.NotEmpty(error);
                Assert.EndsWith(".", error, StringComparison.Ordinal);
                return;
            }

            Assert.True(line.AsSpan().StartsWith("batch="u8) || line.AsSpan().StartsWith("\uFEFFbatch="u8));
            Assert.NotEmpty(header!.AttributeNames);
            Assert.Equal(header.AttributeNames.Count, header.AttributeNames.Distinct(StringComparer.Ordinal).Count());
            Assert.Equal(header.AttributeNames.Count, CommaCount(line)); // one column per name, after the id column
            Assert.All(header.AttributeNames, name =>
            {
                Assert.NotEmpty(name);
                Assert.False(name.StartsWith("profile.", StringComparison.Ordinal), name);
                Assert.True(TextRules.CountCharacters(name) <= maxName);
                Assert.False(TextRules.HasControlCharacter(name, allowLineBreaks: false));
            });
        }, iter: Iterations);
    }

    [Fact]
    public void ParseRow_on_any_bytes_returns_a_row_or_a_failure_and_never_throws()
    {
        Gen.Select(AnyBytes, Headers, Gen.Long[1, long.MaxValue], Gen.Int[1, 300]).Sample((line, header, lineNumber, maxValue) =>
        {
            var limits = new LimitsOptions { MaxValueLength = maxValue };
            var row = BatchFileParser.ParseRow(line, lineNumber, header, limits);
            Assert.Equal(lineNumber, row.Line);
            Assert.Equal(row.Error is not null, row.Failed);
            Assert.Equal(row.Failed, row.Attributes is null);
            if (row.Failed)
            {
                Assert.NotEmpty(row.Error!);
                Assert.EndsWith(".", row.Error!, StringComparison.Ordinal);
                Assert.True(row.Id is null || (row.Id.Length > 0 && row.Id.Length <= 256), "a reported id is clipped");
                return;
            }

            // A row is accepted only with a valid id, at most as many cells as the header, and only non-empty valid values.
            Assert.NotNull(row.Id);
            Assert.Null(header.IdKind == IdentityKind.TntId
                ? VisitorIds.ValidateTntId(row.Id, "pcId")
                : VisitorIds.ValidateThirdPartyId(row.Id, "thirdPartyId"));
            Assert.True(CommaCount(line) <= header.AttributeNames.Count);
            var names = row.Attributes!.Select(a => a.Name).ToList();
            Assert.Equal(names, header.AttributeNames.Where(names.Contains)); // header order, no repeats
            Assert.All(row.Attributes!, a =>
            {
                Assert.NotEmpty(a.Value);
                Assert.True(TextRules.CountCharacters(a.Value) <= maxValue);
                Assert.False(TextRules.HasControlCharacter(a.Value, allowLineBreaks: true));
            });
        }, iter: Iterations);
    }

    [Fact]
    public void ParseRow_decodes_exactly_the_encoded_values()
    {
        var ids = Gen.OneOf(TntIds.Select(id => (IdentityKind.TntId, id)), ThirdPartyIds.Select(id => (IdentityKind.ThirdPartyId, id)));
        Gen.Select(ids, ValueText.Array[1, 8], Gen.Bool, Gen.Bool, Gen.Int[0, 3]).Sample((id, values, spaceAsPlus, crlf, missing) =>
        {
            var (kind, idText) = id;
            var header = new BatchHeader(kind, Enumerable.Range(0, values.Length + missing).Select(i => $"attr{i}").ToList());
            // A raw '+' in an id cell is refused (never read as a space there), so ids encode spaces as %20; values may use '+'.
            var line = string.Join(",", values.Select(v => Encode(v, spaceAsPlus)).Prepend(Encode(idText, spaceAsPlus: false))) + (crlf ? "\r" : "");

            var row = BatchFileParser.ParseRow(Encoding.ASCII.GetBytes(line), 42, header, Limits);

            Assert.False(row.Failed, row.Error);
            Assert.Equal(42, row.Line);
            Assert.Equal(idText, row.Id);
            var expected = values.Select((v, i) => new ProfileAttribute(header.AttributeNames[i], v)).Where(a => a.Value.Length > 0);
            Assert.Equal(expected, row.Attributes!);
        }, iter: Iterations);
    }

    [Fact]
    public void ParseAll_keeps_every_row_in_file_order_with_its_line_number()
    {
        var rows = Gen.Select(ThirdPartyIds, ValueText.Array[0, 3]).Array[0, 30];
        Gen.Select(rows, Gen.Int[0, 2].Array[31], Gen.Bool.Array[31], Gen.Bool).Sample((generated, blanksBefore, crlfs, bom) =>
        {
            var file = new StringBuilder(bom ? "\uFEFF" : "").Append("batch=thirdPartyId,a,b,c");
            var expectedLines = new List<long>();
            long line = 1;
            for (var i = 0; i < generated.Length; i++)
            {
                var eol = crlfs[i] ? "\r\n" : "\n";
                for (var b = 0; b < blanksBefore[i]; b++, line++) file.Append(eol);
                var (id, values) = generated[i];
                file.Append(eol).Append(string.Join(",", values.Prepend(id).Select(v => Encode(v, spaceAsPlus: false))));
                expectedLines.Add(++line);
            }
            if (crlfs[30]) file.Append("\r\n");

            var (header, error, parsed) = BatchFiles.ParseAll(file.ToString(), Limits);
            Assert.Null(error);
            Assert.Equal(["a", "b", "c"], header!.AttributeNames);
            Assert.Equal(expectedLines, parsed.Select(r => r.Line));
            Assert.Equal(generated.Select(g => g.Item1), parsed.Select(r => r.Id));
            for (var i = 0; i < generated.Length; i++)
            {
                var expected = generated[i].Item2.Select((v, c) => new ProfileAttribute(header.AttributeNames[c], v)).Where(a => a.Value.Length > 0);
                Assert.Equal(expected, parsed[i].Attributes!);
            }
        }, iter: 5_000);
    }

    [Fact]
    public async Task LineReader_returns_the_lf_separated_lines_of_any_content_whatever_the_read_sizes()
    {
        var content = Gen.OneOf<byte[]>(Gen.Byte.Array[0, 3000], Gen.OneOf("\n\r,a"u8.ToArray()).Array[0, 3000]);
        await Gen.Select(content, Gen.Int[1, 4000]).SampleAsync(async (bytes, chunk) =>
        {
            var (lines, lineNumber) = await LineReaderTests.ReadAllAsync(new LineReaderTests.ChunkedStream(bytes, chunk));
            var expected = LineReaderTests.SplitLines(bytes);
            Assert.Equal(expected.Count, lineNumber);
            Assert.Equal(expected, lines);
        }, iter: 2_000);
    }

    /// <summary>
    /// The spool's row count is the batch size the status reports; the rows actually processed are the lines the bulk
    /// processor reads back with <see cref="LineReader"/> that are not <see cref="BatchFileParser.IsBlank"/>, after the header.
    /// The two must agree for any content, or consumedCount could exceed batchSize.
    /// </summary>
    [Fact]
    public async Task BatchSpool_counts_exactly_the_rows_the_processor_reads_back()
    {
        var content = Gen.OneOf<byte[]>(Gen.OneOf("\n\r\ra, "u8.ToArray()).Array[0, 200], Gen.Byte.Array[0, 200]);
        await content.SampleAsync(async bytes =>
        {
            var (spool, limit) = await BatchSpool.CreateAsync(new MemoryStream(bytes), long.MaxValue, long.MaxValue, CancellationToken.None);
            await using (spool)
            {
                Assert.Equal(SpoolLimit.None, limit);
                Assert.Equal(bytes.Length, spool.Bytes);

                await using var file = File.OpenRead(spool.Path);
                var reader = new LineReader(file);
                long nonBlank = 0;
                while (await reader.ReadLineAsync(CancellationToken.None) is { } line)
                {
                    if (!BatchFileParser.IsBlank(line.Span)) nonBlank++;
                }
                Assert.Equal(Math.Max(0, nonBlank - 1), spool.Rows);
            }
        }, iter: 2_000);
    }

    /// <summary>Commas in a line (a BOM or a final CR adds none).</summary>
    private static int CommaCount(byte[] line) => line.Count(b => b == (byte)',');
}
