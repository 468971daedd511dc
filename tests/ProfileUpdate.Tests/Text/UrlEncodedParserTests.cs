using System.Text;
using ProfileUpdate.Api.Text;

namespace ProfileUpdate.Tests.Text;

public sealed class UrlEncodedParserTests
{
    private static (List<UrlParameter> Pairs, string? Error) ParseBytes(byte[] input, string source = "body")
    {
        var output = new List<UrlParameter>();
        var error = UrlEncodedParser.Parse(input, output, source);
        return (output, error);
    }

    private static (List<UrlParameter> Pairs, string? Error) ParseAscii(string input, string source = "body") =>
        ParseBytes(Encoding.ASCII.GetBytes(input), source);

    private static List<UrlParameter> ParseOk(string input)
    {
        var (pairs, error) = ParseAscii(input);
        Assert.Null(error);
        return pairs;
    }

    private static string ParseError(string input, string source = "body")
    {
        var (_, error) = ParseAscii(input, source);
        Assert.NotNull(error);
        return error;
    }

    [Fact]
    public void Parses_pairs_in_order()
    {
        Assert.Equal(
            [new UrlParameter("a", "1"), new UrlParameter("b", "2"), new UrlParameter("a", "3")],
            ParseOk("a=1&b=2&a=3"));
    }

    [Fact]
    public void Empty_input_yields_no_pairs_and_no_error()
    {
        Assert.Empty(ParseOk(""));
    }

    [Theory]
    [InlineData("&")]
    [InlineData("&&&")]
    public void Only_separators_yield_no_pairs(string input)
    {
        Assert.Empty(ParseOk(input));
    }

    [Fact]
    public void Empty_segments_are_skipped()
    {
        Assert.Equal(
            [new UrlParameter("a", "1"), new UrlParameter("b", "2")],
            ParseOk("&&a=1&&&b=2&"));
    }

    [Fact]
    public void Name_without_equals_sign_has_empty_value()
    {
        Assert.Equal([new UrlParameter("flag", ""), new UrlParameter("x", "1")], ParseOk("flag&x=1"));
    }

    [Fact]
    public void Name_with_equals_sign_and_nothing_after_has_empty_value()
    {
        Assert.Equal([new UrlParameter("a", "")], ParseOk("a="));
    }

    [Fact]
    public void Empty_name_is_kept()
    {
        Assert.Equal([new UrlParameter("", "v")], ParseOk("=v"));
    }

    [Fact]
    public void Only_the_first_equals_sign_separates_name_and_value()
    {
        Assert.Equal([new UrlParameter("a", "b=c==")], ParseOk("a=b=c=="));
    }

    [Fact]
    public void Plus_decodes_to_space_in_names_and_values()
    {
        Assert.Equal([new UrlParameter("first name", "Jane Q Doe")], ParseOk("first+name=Jane+Q+Doe"));
    }

    [Fact]
    public void Escaped_plus_stays_a_plus()
    {
        Assert.Equal([new UrlParameter("a", "1+1")], ParseOk("a=1%2B1"));
    }

    [Fact]
    public void Percent_escapes_decode_in_names_and_values_with_either_hex_case()
    {
        Assert.Equal(
            [new UrlParameter("profile.a b", "x/y?"), new UrlParameter("c", "%")],
            ParseOk("profile.a%20b=x%2fy%3F&c=%25"));
    }

    [Fact]
    public void Escaped_separators_do_not_split()
    {
        Assert.Equal(
            [new UrlParameter("a&b", "x=y&z"), new UrlParameter("c", "1")],
            ParseOk("a%26b=x%3Dy%26z&c=1"));
    }

    [Fact]
    public void Names_are_case_sensitive()
    {
        Assert.Equal([new UrlParameter("Profile.A", "X"), new UrlParameter("profile.a", "x")], ParseOk("Profile.A=X&profile.a=x"));
    }

    [Theory]
    [InlineData("city=K%C3%B6ln", "Köln")]
    [InlineData("city=K%c3%b6ln", "Köln")]
    [InlineData("city=%E6%9D%B1%E4%BA%AC", "東京")]
    [InlineData("city=%F0%9F%98%80", "😀")]
    [InlineData("city=%F0%9F%91%8D%F0%9F%8F%BD+ok", "👍🏽 ok")]
    public void Percent_encoded_utf8_decodes(string input, string expected)
    {
        Assert.Equal([new UrlParameter("city", expected)], ParseOk(input));
    }

    [Theory]
    [InlineData("Köln")]
    [InlineData("東京")]
    [InlineData("😀")]
    public void Raw_utf8_bytes_decode(string text)
    {
        var (pairs, error) = ParseBytes(Encoding.UTF8.GetBytes($"{text}={text}+{text}"));
        Assert.Null(error);
        Assert.Equal([new UrlParameter(text, $"{text} {text}")], pairs);
    }

    [Fact]
    public void Percent_encoded_utf8_in_a_name_decodes()
    {
        Assert.Equal([new UrlParameter("profile.stadt_köln", "1")], ParseOk("profile.stadt_k%C3%B6ln=1"));
    }

    [Fact]
    public void Byte_order_mark_is_kept_as_a_character()
    {
        Assert.Equal([new UrlParameter("a", "\uFEFFx")], ParseOk("a=%EF%BB%BFx"));
    }

    [Fact]
    public void Encoded_nul_decodes_so_that_the_caller_can_refuse_it()
    {
        Assert.Equal([new UrlParameter("a", "\0")], ParseOk("a=%00"));
    }

    [Theory]
    [InlineData("a=%")]
    [InlineData("a=%4")]
    [InlineData("a=100%")]
    [InlineData("a=%G1")]
    [InlineData("a=%4G")]
    [InlineData("a=%%41")]
    [InlineData("a=% 41")]
    [InlineData("a=%+1")]
    [InlineData("a=x%-1")]
    [InlineData("a=ok&b=%zz")]
    public void Malformed_percent_escape_in_a_value_is_an_error(string input)
    {
        var error = ParseError(input);
        Assert.Contains("malformed percent-escape", error, StringComparison.Ordinal);
        Assert.Contains("%25", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Value_error_names_the_parameter_and_the_source()
    {
        Assert.Equal(
            "The value of parameter 'profile.city' in the query string has a malformed percent-escape " +
            "(a '%' must be followed by two hexadecimal digits; send a literal '%' as %25).",
            ParseError("mboxPC=1&profile.city=50%", "query string"));
    }

    [Fact]
    public void Name_error_gives_the_position_and_the_source()
    {
        Assert.Equal(
            "Parameter #2 of the body has a name that has a malformed percent-escape " +
            "(a '%' must be followed by two hexadecimal digits; send a literal '%' as %25).",
            ParseError("a=1&%zz=2"));
    }

    [Fact]
    public void Empty_segments_do_not_count_in_the_position()
    {
        Assert.StartsWith("Parameter #2 of the body", ParseError("&&a=1&&&pro%file=2&b=3"), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a=%FF")]            // never valid in UTF-8
    [InlineData("a=%C3")]            // truncated two-byte sequence
    [InlineData("a=%C3%28")]         // bad continuation byte
    [InlineData("a=%80")]            // lone continuation byte
    [InlineData("a=%C0%AF")]         // overlong encoding of '/'
    [InlineData("a=%ED%A0%80")]      // encoded UTF-16 surrogate
    [InlineData("a=%F4%90%80%80")]   // above U+10FFFF
    [InlineData("a=%F0%9F%98")]      // truncated emoji
    [InlineData("a=K%F6ln")]         // Latin-1, not UTF-8
    public void Invalid_utf8_in_a_value_is_an_error(string input)
    {
        var error = ParseError(input, "query string");
        Assert.Equal(
            "The value of parameter 'a' in the query string is not valid UTF-8 once decoded (percent-encode the UTF-8 bytes of the text).",
            error);
    }

    [Fact]
    public void Invalid_utf8_in_a_name_is_an_error()
    {
        Assert.Equal(
            "Parameter #1 of the body has a name that is not valid UTF-8 once decoded (percent-encode the UTF-8 bytes of the text).",
            ParseError("profile.K%F6ln=1"));
    }

    [Theory]
    [InlineData(new byte[] { (byte)'a', (byte)'=', 0xFF })]
    [InlineData(new byte[] { (byte)'a', (byte)'=', (byte)'K', 0xF6, (byte)'l', (byte)'n' })]
    [InlineData(new byte[] { 0xC3, (byte)'=', (byte)'1' })]
    public void Raw_invalid_utf8_bytes_are_an_error(byte[] input)
    {
        var (_, error) = ParseBytes(input);
        Assert.NotNull(error);
        Assert.Contains("not valid UTF-8", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Raw_invalid_utf8_mixed_with_escapes_is_an_error()
    {
        var (_, error) = ParseBytes([(byte)'a', (byte)'=', (byte)'%', (byte)'4', (byte)'1', 0xFE]);
        Assert.NotNull(error);
        Assert.Contains("not valid UTF-8", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Appends_to_the_given_list_without_clearing_it()
    {
        var output = new List<UrlParameter> { new("existing", "1") };
        Assert.Null(UrlEncodedParser.Parse("a=2"u8, output, "body"));
        Assert.Equal([new UrlParameter("existing", "1"), new UrlParameter("a", "2")], output);
    }

    [Theory]
    [InlineData(511)]
    [InlineData(512)]
    [InlineData(513)]
    [InlineData(5000)]
    public void Long_values_around_the_stack_buffer_size_decode(int count)
    {
        var raw = "v=" + string.Concat(Enumerable.Repeat("%C3%B6+", count));
        var expected = string.Concat(Enumerable.Repeat("ö ", count));
        Assert.Equal([new UrlParameter("v", expected)], ParseOk(raw));
    }

    [Theory]
    [InlineData(600)]
    [InlineData(5000)]
    public void Long_values_with_a_malformed_escape_at_the_end_are_an_error(int count)
    {
        var raw = "v=" + new string('x', count) + "%4";
        Assert.Contains("malformed percent-escape", ParseError(raw), StringComparison.Ordinal);
    }

    [Fact]
    public void Long_plain_ascii_value_decodes()
    {
        var value = new string('z', 70_000);
        Assert.Equal([new UrlParameter("v", value)], ParseOk("v=" + value));
    }

    [Fact]
    public void String_overload_strips_one_leading_question_mark()
    {
        var output = new List<UrlParameter>();
        Assert.Null(UrlEncodedParser.Parse("?a=1&b=K%C3%B6ln", output, "query string"));
        Assert.Equal([new UrlParameter("a", "1"), new UrlParameter("b", "Köln")], output);

        output.Clear();
        Assert.Null(UrlEncodedParser.Parse("??a=1", output, "query string"));
        Assert.Equal([new UrlParameter("?a", "1")], output);
    }

    [Theory]
    [InlineData("")]
    [InlineData("?")]
    public void String_overload_of_empty_query_yields_nothing(string query)
    {
        var output = new List<UrlParameter>();
        Assert.Null(UrlEncodedParser.Parse(query, output, "query string"));
        Assert.Empty(output);
    }

    [Fact]
    public void String_overload_reports_errors_with_the_source()
    {
        var output = new List<UrlParameter>();
        var error = UrlEncodedParser.Parse("?x=%E6%9D", output, "query string");
        Assert.NotNull(error);
        Assert.Contains("in the query string", error, StringComparison.Ordinal);
        Assert.Contains("not valid UTF-8", error, StringComparison.Ordinal);
    }

    [Fact]
    public void String_overload_keeps_raw_non_ascii_characters()
    {
        var output = new List<UrlParameter>();
        Assert.Null(UrlEncodedParser.Parse("city=東京&x=😀", output, "query string"));
        Assert.Equal([new UrlParameter("city", "東京"), new UrlParameter("x", "😀")], output);
    }

    [Fact]
    public void Sanitize_never_cuts_a_surrogate_pair_in_half()
    {
        var name = new string('a', 63) + "😀" + "tail";
        var sanitized = UrlEncodedParser.Sanitize(name);
        Assert.Equal(new string('a', 63) + "…", sanitized);
        Assert.DoesNotContain(sanitized, char.IsSurrogate);
    }

    [Fact]
    public void Sanitize_replaces_control_characters()
    {
        Assert.Equal("a?b?c?", UrlEncodedParser.Sanitize("a\nb\0c\u007f"));
    }

    [Fact]
    public void Sanitize_keeps_short_printable_names()
    {
        Assert.Equal("profile.Köln 東京", UrlEncodedParser.Sanitize("profile.Köln 東京"));
    }

    [Fact]
    public void Sanitize_clips_long_names_to_64_characters_and_an_ellipsis()
    {
        var name = new string('n', 64);
        Assert.Equal(name, UrlEncodedParser.Sanitize(name));
        Assert.Equal(name + "…", UrlEncodedParser.Sanitize(name + "tail"));
    }

    [Fact]
    public void Value_error_sanitizes_the_echoed_name()
    {
        var error = ParseError("bad%0Aname=%");
        Assert.Contains("'bad?name'", error, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", error, StringComparison.Ordinal);
    }
}
