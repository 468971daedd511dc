using System.Text;
using ProfileUpdate.Api.Text;
using ProfileUpdate.Api.Bulk;
using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Tests.Bulk;

/// <summary>The batch file format of docs/api.md §2: the <c>batch=</c> header line and the data rows.</summary>
public sealed class BatchFileParserTests
{
    private static readonly LimitsOptions Limits = new();

    private static BatchHeader HeaderOk(string line)
    {
        var (header, error) = BatchFileParser.ParseHeader(Encoding.UTF8.GetBytes(line), Limits);
        Assert.Null(error);
        Assert.NotNull(header);
        return header;
    }

    private static string HeaderError(string line)
    {
        var (header, error) = BatchFileParser.ParseHeader(Encoding.UTF8.GetBytes(line), Limits);
        Assert.Null(header);
        Assert.NotNull(error);
        Assert.EndsWith(".", error, StringComparison.Ordinal);
        return error;
    }

    private static List<BatchRow> RowsOk(string content, LimitsOptions? limits = null)
    {
        var (header, error, rows) = BatchFiles.ParseAll(content, limits ?? Limits);
        Assert.Null(error);
        Assert.NotNull(header);
        return rows;
    }

    private static BatchRow Row(string header, string line, long lineNumber = 2, LimitsOptions? limits = null) =>
        BatchFileParser.ParseRow(Encoding.UTF8.GetBytes(line), lineNumber, HeaderOk(header), limits ?? Limits);

    private static IReadOnlyList<ProfileAttribute> Valid(BatchRow row)
    {
        Assert.False(row.Failed, row.Error);
        Assert.Null(row.Error);
        Assert.NotNull(row.Attributes);
        return row.Attributes;
    }

    private static string Failure(BatchRow row)
    {
        Assert.True(row.Failed);
        Assert.Null(row.Attributes);
        Assert.NotNull(row.Error);
        Assert.NotEmpty(row.Error);
        Assert.EndsWith(".", row.Error, StringComparison.Ordinal);
        return row.Error;
    }

    private static ProfileAttribute A(string name, string value) => new(name, value);

    private static BatchRow RemovingRow(string header, string line) =>
        BatchFileParser.ParseRow(Encoding.UTF8.GetBytes(line), 2, HeaderOk(header), Limits, EmptyValues.Remove);

    [Theory]
    [InlineData("id1,,x", new[] { "a" }, new[] { "b" })]
    [InlineData("id1,x,", new[] { "b" }, new[] { "a" })]
    [InlineData("id1,,", new[] { "a", "b" }, new string[0])]
    [InlineData("id1,x", new string[0], new[] { "a" })] // a short row: the omitted cell is absent, not empty
    [InlineData("id1", new string[0], new string[0])]
    public void With_emptyValues_remove_present_empty_cells_are_removals_and_omitted_cells_are_not(string line, string[] removed, string[] set)
    {
        var row = RemovingRow("batch=thirdPartyId,a,b", line);
        Assert.False(row.Failed);
        Assert.Equal(removed, row.Removals ?? []);
        Assert.Equal(set, row.Attributes!.Select(a => a.Name));
    }

    [Fact]
    public void Without_emptyValues_remove_empty_cells_remove_nothing()
    {
        var row = Row("batch=thirdPartyId,a,b", "id1,,x");
        Assert.Null(row.Removals);
        Assert.Equal([A("b", "x")], Valid(row));
    }

    // ---- header: the batch= prefix ----

    [Theory]
    [InlineData("thirdPartyId,tier")]
    [InlineData("pcId,tier")]
    [InlineData("batch thirdPartyId,tier")]
    [InlineData("batch:thirdPartyId,tier")]
    [InlineData(" batch=thirdPartyId,tier")]
    [InlineData("")]
    public void Header_without_the_batch_prefix_is_refused(string line)
    {
        Assert.Contains("must start with 'batch='", HeaderError(line), StringComparison.Ordinal);
    }

    [Fact]
    public void File_without_the_batch_prefix_is_a_header_error_and_yields_no_rows()
    {
        var (header, error, rows) = BatchFiles.ParseAll("thirdPartyId,tier\nabc,gold\n", Limits);
        Assert.Null(header);
        Assert.NotNull(error);
        Assert.Contains("batch=", error, StringComparison.Ordinal);
        Assert.Empty(rows);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("\r\n\n\r\n")]
    public void Empty_or_blank_file_is_a_header_error(string content)
    {
        var (header, error, rows) = BatchFiles.ParseAll(content, Limits);
        Assert.Null(header);
        Assert.NotNull(error);
        Assert.Contains("empty", error, StringComparison.Ordinal);
        Assert.Empty(rows);
    }

    [Fact]
    public void Utf8_bom_before_the_prefix_is_tolerated()
    {
        byte[] line = [0xEF, 0xBB, 0xBF, .. "batch=thirdPartyId,tier"u8];
        var (header, error) = BatchFileParser.ParseHeader(line, Limits);
        Assert.Null(error);
        Assert.NotNull(header);
        Assert.Equal(IdentityKind.ThirdPartyId, header.IdKind);
        Assert.Equal(["tier"], header.AttributeNames);
    }

    [Fact]
    public void Utf8_bom_at_the_start_of_a_whole_file_is_tolerated()
    {
        var rows = RowsOk("\uFEFFbatch=thirdPartyId,tier\nabc,gold\n");
        Assert.Equal([A("tier", "gold")], Valid(Assert.Single(rows)));
    }

    [Fact]
    public void Bom_anywhere_but_before_the_prefix_is_not_skipped()
    {
        // After the prefix it is part of the first column name, which is then not a known id column.
        Assert.Contains("must be pcId or thirdPartyId", HeaderError("batch=\uFEFFthirdPartyId,tier"), StringComparison.Ordinal);
        // A half BOM is not a BOM.
        byte[] half = [0xEF, 0xBB, .. "batch=thirdPartyId,tier"u8];
        var (header, error) = BatchFileParser.ParseHeader(half, Limits);
        Assert.Null(header);
        Assert.Contains("batch=", error, StringComparison.Ordinal);
    }

    // ---- header: not UTF-8 text ----

    /// <summary>
    /// The header line a file in <paramref name="encoding"/> (its preamble first) gives the spool: its bytes before the
    /// first LF byte. UTF-16's LF is two bytes, so a big-endian line keeps the NUL of its LF and a little-endian one
    /// leaves it to the next line; UTF-32 keeps three NULs.
    /// </summary>
    private static byte[] HeaderLineIn(Encoding encoding, string file)
    {
        byte[] bytes = [.. encoding.GetPreamble(), .. encoding.GetBytes(file)];
        return bytes[..Array.IndexOf(bytes, (byte)'\n')];
    }

    [Theory]
    [InlineData(16, false, true, "The file is UTF-16 (little-endian, it starts with a UTF-16 byte order mark)", "iconv -f UTF-16 -t UTF-8")]
    [InlineData(16, true, true, "The file is UTF-16 (big-endian, it starts with a UTF-16 byte order mark)", "iconv -f UTF-16 -t UTF-8")]
    [InlineData(16, false, false, "The file is UTF-16 (little-endian without a byte order mark: every other byte of its header line is a NUL)", "iconv -f UTF-16LE -t UTF-8")]
    [InlineData(16, true, false, "The file is UTF-16 (big-endian without a byte order mark: every other byte of its header line is a NUL)", "iconv -f UTF-16BE -t UTF-8")]
    [InlineData(32, false, true, "The file is UTF-32 (little-endian, it starts with a UTF-32 byte order mark)", "iconv -f UTF-32 -t UTF-8")]
    [InlineData(32, true, true, "The file is UTF-32 (big-endian, it starts with a UTF-32 byte order mark)", "iconv -f UTF-32 -t UTF-8")]
    public void A_header_in_utf16_or_utf32_is_refused_naming_the_encoding_and_how_to_convert_the_file(int bits, bool bigEndian, bool bom, string what, string convert)
    {
        Encoding encoding = bits == 16 ? new UnicodeEncoding(bigEndian, bom) : new UTF32Encoding(bigEndian, bom);
        foreach (var error in new[]
                 {
                     BatchFileParser.ParseHeader(HeaderLineIn(encoding, "batch=thirdPartyId,tier\nx,gold\n"), Limits).Error,
                     BatchFileParser.ParseHeader(HeaderLineIn(encoding, "batch=pcId,東京\r\nx,gold\r\n"), Limits).Error,
                     BatchFileParser.ParseEraseHeader(HeaderLineIn(encoding, "batch=thirdPartyId\nx\n")).Error,
                 })
        {
            Assert.NotNull(error);
            Assert.StartsWith(what + "; a batch file must be UTF-8 (a UTF-8 byte order mark is fine). Save it as UTF-8 or convert it", error, StringComparison.Ordinal);
            Assert.Contains(convert, error, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("batch=thirdPartyId,ti\0er", 22)]
    [InlineData("\0batch=thirdPartyId,tier", 1)]
    [InlineData("b\0atch=thirdPartyId,tier", 2)] // one NUL after one letter is not UTF-16's pattern
    [InlineData("batch=thirdPartyId,tier\0", 24)]
    [InlineData("\0", 1)] // the LF's NUL of a UTF-16 LE file whose first line is blank: the header line the spool sees
    public void A_nul_byte_in_the_header_line_is_refused_naming_its_place(string line, int at)
    {
        var error = HeaderError(line);
        Assert.Equal($"The header line holds a NUL byte (byte {at} of the line); a batch file is UTF-8 text, which has none there. " +
                     "A file saved as UTF-16 or UTF-32 (\"Unicode\") has NUL bytes: save it as UTF-8.", error);
        Assert.Equal(error, BatchFileParser.ParseEraseHeader(Encoding.UTF8.GetBytes(line)).Error);
    }

    [Fact]
    public void A_utf8_bom_or_a_nul_written_as_an_escape_is_not_an_encoding_error()
    {
        Assert.Null(BatchFileParser.EncodingError([0xEF, 0xBB, 0xBF, .. "batch=thirdPartyId,tier"u8]));
        Assert.Null(BatchFileParser.EncodingError("batch=thirdPartyId,a%00b"u8));
        // One UTF-16 code unit is too few to call the line UTF-16: a NUL all the same.
        Assert.Contains("NUL byte (byte 2", BatchFileParser.EncodingError("p\0"u8)!, StringComparison.Ordinal);
    }

    // ---- header: the id column ----

    [Theory]
    [InlineData("batch=pcId,tier", IdentityKind.TntId)]
    [InlineData("batch=thirdPartyId,tier", IdentityKind.ThirdPartyId)]
    [InlineData("batch=thirdParty%49d,tier", IdentityKind.ThirdPartyId)]
    [InlineData("batch=pc%49d,tier", IdentityKind.TntId)]
    public void First_column_names_the_id_kind(string line, IdentityKind kind)
    {
        var header = HeaderOk(line);
        Assert.Equal(kind, header.IdKind);
        Assert.Equal(["tier"], header.AttributeNames);
    }

    [Theory]
    [InlineData("marketingCloudVisitorId")]
    [InlineData("mboxMCGVID")]
    [InlineData("ecid")]
    [InlineData("mcId")]
    public void Experience_cloud_id_columns_are_refused(string column)
    {
        var error = HeaderError($"batch={column},tier");
        Assert.Contains("Experience Cloud ID", error, StringComparison.Ordinal);
        Assert.Contains(column, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pcId", IdentityKind.TntId)]
    [InlineData("tntId", IdentityKind.TntId)]
    [InlineData("MBOXPC", IdentityKind.TntId)]
    [InlineData("thirdPartyId", IdentityKind.ThirdPartyId)]
    [InlineData("mbox3rdPartyId", IdentityKind.ThirdPartyId)]
    [InlineData("mboxThirdPartyID", IdentityKind.ThirdPartyId)]
    public void Id_column_aliases_are_accepted_in_any_case(string column, IdentityKind kind)
    {
        var (header, error) = BatchFileParser.ParseHeader(Encoding.UTF8.GetBytes($"batch={column},tier"), Limits);
        Assert.Null(error);
        Assert.Equal(kind, header!.IdKind);
    }

    [Theory]
    [InlineData("email")]
    [InlineData("thirdParty")]
    [InlineData("pcId ")]
    [InlineData("")]
    public void Other_first_columns_are_refused(string column)
    {
        var error = HeaderError($"batch={column},tier");
        Assert.Contains("first header column must be pcId or thirdPartyId", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Experience Cloud", error, StringComparison.Ordinal);
    }

    // ---- header: attribute names ----

    [Fact]
    public void Header_names_are_url_decoded()
    {
        var header = HeaderOk("batch=thirdPartyId,favorite%20color,loyalty+tier,%C3%B6l,a%2Cb,x%26y,%E6%9D%B1");
        Assert.Equal(["favorite color", "loyalty tier", "öl", "a,b", "x&y", "東"], header.AttributeNames);
    }

    [Fact]
    public void Header_keeps_column_order()
    {
        Assert.Equal(["z", "a", "m"], HeaderOk("batch=pcId,z,a,m").AttributeNames);
    }

    [Theory]
    [InlineData("batch=thirdPartyId,tier,,color", 3)]
    [InlineData("batch=thirdPartyId,,tier", 2)]
    [InlineData("batch=thirdPartyId,tier,", 3)]
    public void Empty_attribute_name_is_refused(string line, int column)
    {
        var error = HeaderError(line);
        Assert.Contains($"Header column {column} is empty", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("batch=thirdPartyId,tier,color,tier", 4, "tier")]
    [InlineData("batch=thirdPartyId,tier,ti%65r", 3, "tier")]
    [InlineData("batch=pcId,a+b,a%20b", 3, "a b")]
    public void Duplicate_attribute_name_is_refused(string line, int column, string name)
    {
        var error = HeaderError(line);
        Assert.Contains($"Header column {column} '{name}' appears more than once", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Attribute_names_differing_only_in_case_are_distinct()
    {
        Assert.Equal(["tier", "Tier"], HeaderOk("batch=thirdPartyId,tier,Tier").AttributeNames);
    }

    [Theory]
    [InlineData("batch=thirdPartyId,profile.tier", "profile.tier")]
    [InlineData("batch=thirdPartyId,color,profile%2Etier", "profile.tier")]
    [InlineData("batch=pcId,profile.", "profile.")]
    public void Profile_prefixed_attribute_name_is_refused_naming_the_column(string line, string name)
    {
        var error = HeaderError(line);
        Assert.Contains($"'{name}'", error, StringComparison.Ordinal);
        Assert.Contains("without the 'profile.' prefix", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Names_merely_containing_profile_are_accepted()
    {
        Assert.Equal(["myprofile.tier", "profile"], HeaderOk("batch=thirdPartyId,myprofile.tier,profile").AttributeNames);
    }

    [Theory]
    [InlineData("batch=thirdPartyId")]
    [InlineData("batch=pcId")]
    [InlineData("batch=pcId\r")]
    public void Header_without_attribute_columns_is_refused(string line)
    {
        Assert.Contains("no attribute columns", HeaderError(line), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("batch=thirdPartyId,ti%2", "Header column 2", "malformed percent-escape")]
    [InlineData("batch=thirdPartyId,tier,%zzcolor", "Header column 3", "malformed percent-escape")]
    [InlineData("batch=third%PartyId,tier", "Header column 1", "malformed percent-escape")]
    [InlineData("batch=thirdPartyId,%FF", "Header column 2", "not valid UTF-8")]
    [InlineData("batch=thirdPartyId,a%00b", "Header column 2", "control character")]
    public void Undecodable_or_unprintable_header_names_are_refused(string line, string column, string reason)
    {
        var error = HeaderError(line);
        Assert.StartsWith(column, error, StringComparison.Ordinal);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Header_name_length_is_limited()
    {
        var limits = new LimitsOptions { MaxNameLength = 8 };
        var (ok, okError) = BatchFileParser.ParseHeader("batch=thirdPartyId,abcdefgh"u8, limits);
        Assert.Null(okError);
        Assert.Equal(["abcdefgh"], ok!.AttributeNames);

        var (tooLong, error) = BatchFileParser.ParseHeader("batch=thirdPartyId,abcdefghi"u8, limits);
        Assert.Null(tooLong);
        Assert.Contains("Header column 2 is longer than 8 characters", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("batch=thirdPartyId,tier\r")]
    [InlineData("batch=thirdPartyId,tier")]
    public void Header_line_ending_cr_is_not_part_of_the_last_name(string line)
    {
        Assert.Equal(["tier"], HeaderOk(line).AttributeNames);
    }

    [Fact]
    public void Blank_lines_before_the_header_are_skipped()
    {
        var rows = RowsOk("\n\r\n\nbatch=thirdPartyId,tier\nabc,gold\n");
        var row = Assert.Single(rows);
        Assert.Equal(5, row.Line);
        Assert.Equal("abc", row.Id);
    }

    // ---- rows: line endings, blank lines, line numbers ----

    [Fact]
    public void Lf_and_crlf_files_give_the_same_rows()
    {
        string[] lines = ["batch=thirdPartyId,tier,color", "abc,gold,blue", "def,,red", "ghi,silver"];
        var lf = RowsOk(string.Join("\n", lines) + "\n");
        var crlf = RowsOk(string.Join("\r\n", lines) + "\r\n");
        var mixed = RowsOk(lines[0] + "\r\n" + lines[1] + "\n" + lines[2] + "\r\n" + lines[3]);

        List<(long, string?, ProfileAttribute[])> expected =
        [
            (2, "abc", [A("tier", "gold"), A("color", "blue")]),
            (3, "def", [A("color", "red")]),
            (4, "ghi", [A("tier", "silver")]),
        ];
        foreach (var rows in new[] { lf, crlf, mixed })
        {
            Assert.Equal(expected, rows.Select(r => (r.Line, r.Id, Valid(r).ToArray())).ToList(), TupleComparer.Instance);
        }
    }

    [Fact]
    public void Crlf_does_not_leave_a_cr_in_the_last_value_or_the_id()
    {
        var row = Row("batch=thirdPartyId,tier", "abc,gold\r");
        Assert.Equal([A("tier", "gold")], Valid(row));

        var idOnly = Row("batch=thirdPartyId,tier", "abc\r");
        Assert.Equal("abc", idOnly.Id);
        Assert.Empty(Valid(idOnly));
    }

    [Fact]
    public void Blank_lines_are_skipped_and_rows_keep_their_line_numbers()
    {
        var rows = RowsOk("batch=thirdPartyId,tier\n\nabc,gold\r\n\r\n\n,bad\ndef,silver\n\n");
        Assert.Equal([3L, 6L, 7L], rows.Select(r => r.Line));
        Assert.Equal("abc", rows[0].Id);
        Assert.True(rows[1].Failed);
        Assert.Equal("def", rows[2].Id);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\r")]
    [InlineData("\r\r")] // e.g. a blank line of a file whose CRLFs were converted twice (CR CR LF)
    [InlineData("\r\r\r")]
    public void Empty_line_and_cr_only_lines_are_blank(string line)
    {
        Assert.True(BatchFileParser.IsBlank(Encoding.ASCII.GetBytes(line)));
    }

    [Theory]
    [InlineData(" ")]
    [InlineData(",")]
    [InlineData("a")]
    [InlineData("a\r")]
    [InlineData("\ra")]
    public void Lines_with_content_are_not_blank(string line)
    {
        Assert.False(BatchFileParser.IsBlank(Encoding.ASCII.GetBytes(line)));
    }

    [Fact]
    public void Cr_only_lines_between_rows_are_skipped_not_failed()
    {
        var rows = RowsOk("batch=thirdPartyId,tier\nabc,gold\n\r\r\ndef,silver\n\r\r\r");
        Assert.Equal([2L, 4L], rows.Select(r => r.Line));
        Assert.All(rows, r => Assert.False(r.Failed, r.Error));
    }

    [Fact]
    public void Last_line_without_a_line_ending_is_a_row()
    {
        var rows = RowsOk("batch=pcId,tier\nabc,gold\ndef,silver");
        Assert.Equal(["abc", "def"], rows.Select(r => r.Id));
        Assert.Equal([A("tier", "silver")], Valid(rows[1]));
    }

    [Fact]
    public void Valid_rows_keep_file_order_including_repeated_ids()
    {
        var content = new StringBuilder("batch=thirdPartyId,n\n");
        for (var i = 0; i < 500; i++) content.Append("id").Append(i % 7).Append(',').Append(i).Append('\n');
        var rows = RowsOk(content.ToString());

        Assert.Equal(500, rows.Count);
        for (var i = 0; i < 500; i++)
        {
            Assert.Equal(i + 2, rows[i].Line);
            Assert.Equal($"id{i % 7}", rows[i].Id);
            Assert.Equal([A("n", i.ToString(System.Globalization.CultureInfo.InvariantCulture))], Valid(rows[i]));
        }
    }

    [Fact]
    public void A_failed_row_does_not_stop_the_rows_after_it()
    {
        var rows = RowsOk("batch=thirdPartyId,tier\nabc,gold\nx%2By,silver\ndef,bronze,extra\nghi,%ZZ\njkl,iron\n");
        Assert.Equal([false, true, true, true, false], rows.Select(r => r.Failed));
        Assert.Equal([2L, 3L, 4L, 5L, 6L], rows.Select(r => r.Line));
        Assert.Equal([A("tier", "iron")], Valid(rows[4]));
    }

    // ---- rows: splitting and decoding cells ----

    [Fact]
    public void Cells_are_split_on_commas_before_decoding_so_encoded_commas_stay_in_their_cell()
    {
        var row = Row("batch=thirdPartyId,address,tier", "a%2Cb,Main St%2C 5%2c Springfield,gold");
        Assert.Equal("a,b", row.Id);
        Assert.Equal([A("address", "Main St, 5, Springfield"), A("tier", "gold")], Valid(row));
    }

    [Fact]
    public void Plus_decodes_to_a_space()
    {
        var row = Row("batch=thirdPartyId,name", "john%20doe,Jane+Q.+Public");
        Assert.Equal("john doe", row.Id);
        Assert.Equal([A("name", "Jane Q. Public")], Valid(row));
    }

    [Theory]
    [InlineData("batch=thirdPartyId,tier", "anna+crm@example.com,gold", "anna+crm@example.com")]
    [InlineData("batch=thirdPartyId,tier", "+,gold", "+")]
    [InlineData("batch=pcId,tier", "1368007744041+575948,gold", "1368007744041+575948")]
    public void A_raw_plus_in_an_id_cell_fails_the_row_and_is_shown_as_sent(string header, string line, string shownId)
    {
        var row = Row(header, line);
        Assert.Contains("raw '+'", Failure(row), StringComparison.Ordinal);
        Assert.Equal(shownId, row.Id);
    }

    [Fact]
    public void Encoded_plus_and_percent_decode_to_themselves_in_values()
    {
        var row = Row("batch=pcId,math,rate", "abc,1%2B1%3D2,50%25");
        Assert.Equal([A("math", "1+1=2"), A("rate", "50%")], Valid(row));
    }

    [Fact]
    public void Unencoded_ampersand_and_equals_have_no_special_meaning()
    {
        var row = Row("batch=thirdPartyId,band,query", "abc,rock&roll,a=1&b=2");
        Assert.Equal("abc", row.Id);
        Assert.Equal([A("band", "rock&roll"), A("query", "a=1&b=2")], Valid(row));

        var rows = RowsOk("batch=thirdPartyId,band\nabc,rock&roll\ndef,x&tier=gold\n");
        Assert.Equal([A("band", "x&tier=gold")], Valid(rows[1]));
    }

    [Fact]
    public void Values_are_decoded_as_utf8()
    {
        var row = Row("batch=thirdPartyId,city,emoji,raw", "abc,K%C3%B6ln,%F0%9F%98%80,東京");
        Assert.Equal([A("city", "Köln"), A("emoji", "😀"), A("raw", "東京")], Valid(row));
    }

    [Fact]
    public void Encoded_line_breaks_and_tabs_are_allowed_in_values()
    {
        var row = Row("batch=thirdPartyId,note", "abc,line1%0D%0Aline2%09end");
        Assert.Equal([A("note", "line1\r\nline2\tend")], Valid(row));
    }

    [Fact]
    public void Trailing_cells_may_be_omitted()
    {
        const string header = "batch=thirdPartyId,a,b,c";
        Assert.Equal([A("a", "1")], Valid(Row(header, "abc,1")));
        Assert.Equal([A("a", "1"), A("b", "2")], Valid(Row(header, "abc,1,2")));
        Assert.Empty(Valid(Row(header, "abc")));
    }

    [Fact]
    public void Empty_cells_are_ignored()
    {
        const string header = "batch=thirdPartyId,a,b,c";
        Assert.Equal([A("b", "2")], Valid(Row(header, "abc,,2")));
        Assert.Equal([A("a", "1"), A("c", "3")], Valid(Row(header, "abc,1,,3")));
        Assert.Empty(Valid(Row(header, "abc,,,")));
    }

    [Fact]
    public void A_value_decoding_to_a_space_is_not_empty()
    {
        Assert.Equal([A("a", " ")], Valid(Row("batch=thirdPartyId,a", "abc,+")));
    }

    [Theory]
    [InlineData("abc,1,2,3", 4)]
    [InlineData("abc,1,2,3,4,5", 6)]
    [InlineData("abc,,,", 4)]
    public void More_cells_than_the_header_fail_the_row(string line, int cells)
    {
        var row = Row("batch=thirdPartyId,a,b", line, lineNumber: 17);
        var error = Failure(row);
        Assert.Equal(17, row.Line);
        Assert.Equal("abc", row.Id);
        Assert.Contains($"The row has {cells} cells but the header has 3", error, StringComparison.Ordinal);
        Assert.Contains("%2C", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Too_many_cells_with_an_empty_or_undecodable_first_cell_reports_no_id()
    {
        Assert.Null(Row("batch=thirdPartyId,a", ",1,2").Id);
        Assert.Null(Row("batch=thirdPartyId,a", "%ZZ,1,2").Id);
        Assert.Contains("cells", Failure(Row("batch=thirdPartyId,a", "%ZZ,1,2")), StringComparison.Ordinal);
    }

    // ---- rows: ids ----

    [Theory]
    [InlineData("batch=thirdPartyId,tier", ",gold", "thirdPartyId must not be empty")]
    [InlineData("batch=thirdPartyId,tier", ",", "thirdPartyId must not be empty")]
    [InlineData("batch=thirdPartyId,tier", "\r", "thirdPartyId must not be empty")]
    [InlineData("batch=pcId,tier", ",gold", "pcId must not be empty")]
    public void Empty_id_fails_the_row(string header, string line, string message)
    {
        var row = Row(header, line, lineNumber: 9);
        Assert.Contains(message, Failure(row), StringComparison.Ordinal);
        Assert.Equal(9, row.Line);
        Assert.Null(row.Id);
    }

    [Theory]
    [InlineData("a%2Bb")]
    [InlineData("a%2bb")]
    [InlineData("a%2Fb")]
    [InlineData("a%2fb")]
    [InlineData("a/b")]
    [InlineData("%2B")]
    public void Third_party_id_with_plus_or_slash_fails_the_row(string id)
    {
        var row = Row("batch=thirdPartyId,tier", $"{id},gold", lineNumber: 4);
        Assert.Contains("must not contain '+' or '/'", Failure(row), StringComparison.Ordinal);
        Assert.Equal(4, row.Line);
        Assert.NotNull(row.Id);
    }

    [Fact]
    public void Third_party_id_with_a_control_character_fails_the_row()
    {
        Assert.Contains("control characters", Failure(Row("batch=thirdPartyId,tier", "a%0Ab,gold")), StringComparison.Ordinal);
    }

    [Fact]
    public void Third_party_id_length_is_limited_to_256_characters()
    {
        var ok = new string('x', VisitorIds.MaxThirdPartyIdLength);
        Assert.Equal(ok, Row("batch=thirdPartyId,tier", $"{ok},gold").Id);
        Assert.Equal([A("tier", "gold")], Valid(Row("batch=thirdPartyId,tier", $"{ok},gold")));

        // Characters are counted as scalar values: 256 emoji (512 UTF-16 units) are still fine.
        var emoji = string.Concat(Enumerable.Repeat("%F0%9F%98%80", 256));
        Valid(Row("batch=thirdPartyId,tier", $"{emoji},gold"));

        var tooLong = Row("batch=thirdPartyId,tier", $"{ok}y,gold", lineNumber: 3);
        Assert.Contains("at most 256 characters", Failure(tooLong), StringComparison.Ordinal);
        Assert.Equal(3, tooLong.Line);
    }

    [Fact]
    public void Reported_id_of_a_failed_row_is_clipped()
    {
        var huge = new string('x', 10_000);
        var row = Row("batch=thirdPartyId,tier", $"{huge},gold");
        Failure(row);
        Assert.NotNull(row.Id);
        Assert.Equal(256, row.Id.Length);
        Assert.StartsWith(row.Id, huge, StringComparison.Ordinal);
    }

    [Fact]
    public void Reported_id_is_clipped_without_splitting_a_surrogate_pair()
    {
        // 255 ASCII characters, then emoji: the cut at 256 UTF-16 units would fall inside the first emoji.
        var id = new string('x', 255) + string.Concat(Enumerable.Repeat("%F0%9F%98%80", 300));
        var row = Row("batch=thirdPartyId,tier", $"{id},gold");
        Failure(row);
        Assert.Equal(new string('x', 255), row.Id);
    }

    [Fact]
    public void Pc_id_follows_the_tnt_id_rules()
    {
        const string header = "batch=pcId,tier";
        Assert.Equal("0a1b2c-d_e.28_0", Row(header, "0a1b2c-d_e.28_0,gold").Id);
        Valid(Row(header, "0a1b2c-d_e.28_0,gold"));
        Valid(Row(header, $"{new string('a', VisitorIds.MaxTntIdLength)},gold"));

        Assert.Contains("at most 128 characters", Failure(Row(header, $"{new string('a', 129)},gold")), StringComparison.Ordinal);
        Assert.Contains("only letters, digits", Failure(Row(header, "a/b,gold")), StringComparison.Ordinal);
        Assert.Contains("raw '+'", Failure(Row(header, "a+b,gold")), StringComparison.Ordinal);
        Assert.Contains("at most one '.'", Failure(Row(header, "a.b.c,gold")), StringComparison.Ordinal);
    }

    // ---- rows: malformed escapes, invalid UTF-8, control characters, value length ----

    [Theory]
    [InlineData("ab%2,gold", "The id")]
    [InlineData("ab%,gold", "The id")]
    [InlineData("%G1,gold", "The id")]
    [InlineData("abc,go%ld", "Column 'tier'")]
    [InlineData("abc,gold%", "Column 'tier'")]
    [InlineData("abc,gold,%4", "Column 'color'")]
    [InlineData("abc,gold,%4\r", "Column 'color'")]
    public void Malformed_percent_escape_fails_the_row(string line, string where)
    {
        var row = Row("batch=thirdPartyId,tier,color", line, lineNumber: 12);
        var error = Failure(row);
        Assert.StartsWith(where, error, StringComparison.Ordinal);
        Assert.Contains("malformed percent-escape", error, StringComparison.Ordinal);
        Assert.Equal(12, row.Line);
    }

    [Theory]
    [InlineData("ab%2,gold", "ab%2")]
    [InlineData("%G1,gold", "%G1")]
    public void An_id_that_cannot_be_decoded_is_reported_as_sent(string line, string id)
    {
        var row = Row("batch=thirdPartyId,tier", line);
        Failure(row);
        Assert.Equal(id, row.Id);
    }

    [Theory]
    [InlineData("batch=thirdPartyId,tier\rx,gold\ry,silver")]
    [InlineData("batch=thirdPartyId\rx\ry")]
    public void A_header_with_cr_only_line_ends_is_told_lines_end_with_lf_or_crlf(string line)
    {
        var error = BatchFileParser.ParseHeader(Encoding.UTF8.GetBytes(line), Limits).Error;
        Assert.Contains("must end with LF or CRLF", error, StringComparison.Ordinal);
        Assert.Contains("must end with LF or CRLF", BatchFileParser.ParseEraseHeader(Encoding.UTF8.GetBytes(line)).Error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failure_in_a_value_reports_the_decoded_id()
    {
        var row = Row("batch=thirdPartyId,tier", "a%20b%2Cc,%ZZ");
        Failure(row);
        Assert.Equal("a b,c", row.Id);
    }

    [Theory]
    [InlineData("abc,%FF", "Column 'tier'")]
    [InlineData("abc,%C3", "Column 'tier'")]
    [InlineData("abc,%C3%28", "Column 'tier'")]
    [InlineData("abc,%ED%A0%80", "Column 'tier'")] // an encoded UTF-16 surrogate
    [InlineData("abc,%C0%AF", "Column 'tier'")] // overlong encoding of '/'
    [InlineData("%FFabc,gold", "The id")]
    public void Invalid_utf8_after_decoding_fails_the_row(string line, string where)
    {
        var error = Failure(Row("batch=thirdPartyId,tier", line));
        Assert.StartsWith(where, error, StringComparison.Ordinal);
        Assert.Contains("not valid UTF-8", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_raw_utf8_bytes_fail_the_row()
    {
        var header = HeaderOk("batch=thirdPartyId,tier");
        byte[] line = [.. "abc,gold"u8, 0xC3, 0x28];
        var row = BatchFileParser.ParseRow(line, 6, header, Limits);
        Assert.Contains("not valid UTF-8", Failure(row), StringComparison.Ordinal);
        Assert.Equal(6, row.Line);
        Assert.Equal("abc", row.Id);

        byte[] idLine = [0xFF, .. "abc,gold"u8];
        Assert.Contains("not valid UTF-8", Failure(BatchFileParser.ParseRow(idLine, 6, header, Limits)), StringComparison.Ordinal);

        // Raw valid UTF-8 is fine.
        Assert.Equal([A("tier", "gölD")], Valid(BatchFileParser.ParseRow(Encoding.UTF8.GetBytes("abc,gölD"), 6, header, Limits)));
    }

    [Theory]
    [InlineData("abc,a%00b")]
    [InlineData("abc,%7F")]
    [InlineData("abc,%1B[0m")]
    public void Control_character_in_a_value_fails_the_row(string line)
    {
        var error = Failure(Row("batch=thirdPartyId,tier", line));
        Assert.Contains("'tier' contains a control character", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Over_long_value_fails_the_row()
    {
        var ok = new string('v', 256);
        Assert.Equal([A("tier", ok)], Valid(Row("batch=thirdPartyId,tier", $"abc,{ok}")));

        var row = Row("batch=thirdPartyId,color,tier", $"abc,red,{ok}v", lineNumber: 21);
        Assert.Equal("The value of 'tier' is longer than 256 characters.", Failure(row));
        Assert.Equal(21, row.Line);
        Assert.Equal("abc", row.Id);
    }

    [Fact]
    public void Longest_row_follows_from_the_header_and_the_limits_capped_by_the_setting()
    {
        // Id: 256 characters of 12 encoded bytes; each attribute: a comma and 256 such characters; then a CR.
        Assert.Equal(3072 + 2 * 3073 + 1, BatchFileParser.MaxRowBytes(HeaderOk("batch=thirdPartyId,a,b"), Limits, 1_048_576));
        Assert.Equal(1536 + 3073 + 1, BatchFileParser.MaxRowBytes(HeaderOk("batch=pcId,a"), Limits, 1_048_576));
        Assert.Equal(5000, BatchFileParser.MaxRowBytes(HeaderOk("batch=thirdPartyId,a,b"), Limits, 5000));

        // A row exactly that long, every cell at its limit, is valid: the bound never refuses a valid row.
        var emoji = string.Concat(Enumerable.Repeat("%F0%9F%98%80", 256));
        var longest = $"{emoji},{emoji},{emoji}\r";
        Assert.Equal(BatchFileParser.MaxRowBytes(HeaderOk("batch=thirdPartyId,a,b"), Limits, 1_048_576), longest.Length);
        Assert.Equal(2, Valid(Row("batch=thirdPartyId,a,b", longest)).Count);
    }

    [Fact]
    public void Line_longer_than_the_bound_fails_with_its_line_number_and_the_bound()
    {
        var header = HeaderOk("batch=thirdPartyId,a,b");
        var row = BatchFileParser.TooLongRow("crm-9,vvvvvvvv"u8, 7, header, Limits, 1_048_576);
        Assert.Equal("Line 7: row longer than 9219 bytes, the longest a row of this header can be with every cell within its limits; it was skipped.", Failure(row));
        Assert.Equal(7, row.Line);
        Assert.Equal("crm-9", row.Id);

        var capped = BatchFileParser.TooLongRow(Encoding.ASCII.GetBytes(new string('x', 5000)), 8, header, Limits, 5000);
        Assert.Contains("row longer than 5000 bytes, the longest row this service accepts (ProfileUpdate__Bulk__MaxRowBytes)", Failure(capped), StringComparison.Ordinal);
        Assert.Equal(new string('x', 256), capped.Id); // a huge id cell is reported by its start, as any over-long id
    }

    [Fact]
    public void Over_long_cells_are_refused_by_raw_length_before_they_are_decoded()
    {
        var header = HeaderOk("batch=thirdPartyId,tier");
        var hugeId = new byte[20 * 1024 * 1024];
        hugeId.AsSpan().Fill((byte)'%');
        "%41"u8.CopyTo(hugeId); // malformed escapes after the first: decoding it would say so, the length check comes first
        var before = GC.GetAllocatedBytesForCurrentThread();
        var row = BatchFileParser.ParseRow(hugeId, 2, header, Limits);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal("thirdPartyId must be at most 256 characters.", Failure(row));
        Assert.True(allocated < 256 * 1024, $"{allocated} bytes allocated to refuse a {hugeId.Length}-byte id cell");

        byte[] hugeValue = [.. "abc,"u8, .. Enumerable.Repeat((byte)'v', 20 * 1024 * 1024)];
        before = GC.GetAllocatedBytesForCurrentThread();
        row = BatchFileParser.ParseRow(hugeValue, 3, header, Limits);
        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal("The value of 'tier' is longer than 256 characters.", Failure(row));
        Assert.Equal("abc", row.Id);
        Assert.True(allocated < 256 * 1024, $"{allocated} bytes allocated to refuse a 20 MB value cell");
    }

    [Fact]
    public void Value_length_follows_the_configured_limit_and_counts_scalar_values()
    {
        var limits = new LimitsOptions { MaxValueLength = 3 };
        Assert.Equal([A("t", "😀😀😀")], Valid(Row("batch=thirdPartyId,t", "abc,%F0%9F%98%80%F0%9F%98%80%F0%9F%98%80", limits: limits)));
        Assert.Equal([A("t", "a b")], Valid(Row("batch=thirdPartyId,t", "abc,a+b", limits: limits)));
        Assert.Contains("longer than 3 characters", Failure(Row("batch=thirdPartyId,t", "abc,abcd", limits: limits)), StringComparison.Ordinal);
        // The limit applies to the decoded value, not to its encoding.
        Valid(Row("batch=thirdPartyId,t", "abc,%41%42%43", limits: limits));
    }

    /// <summary>Compares (line, id, attributes[]) tuples by value, attributes element-wise.</summary>
    private sealed class TupleComparer : IEqualityComparer<(long, string?, ProfileAttribute[])>
    {
        public static readonly TupleComparer Instance = new();

        public bool Equals((long, string?, ProfileAttribute[]) x, (long, string?, ProfileAttribute[]) y) =>
            x.Item1 == y.Item1 && x.Item2 == y.Item2 && x.Item3.SequenceEqual(y.Item3);

        public int GetHashCode((long, string?, ProfileAttribute[]) obj) => HashCode.Combine(obj.Item1, obj.Item2, obj.Item3.Length);
    }
}
