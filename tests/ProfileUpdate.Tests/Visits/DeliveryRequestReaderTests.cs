using System.Text;
using ProfileUpdate.Api.Text;
using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Profiles;
using ProfileUpdate.Api.Visits;

namespace ProfileUpdate.Tests.Visits;

public sealed class DeliveryRequestReaderTests
{
    private const string Web = "\"context\":{\"channel\":\"web\"}";
    private static readonly LimitsOptions Limits = new();

    private static Parsed<DeliveryRequest> Read(string json, LimitsOptions? limits = null) =>
        DeliveryRequestReader.Read(Encoding.UTF8.GetBytes(json), limits ?? Limits);

    private static DeliveryRequest ReadOk(string json, LimitsOptions? limits = null)
    {
        var (request, error) = Read(json, limits);
        Assert.Null(error);
        Assert.NotNull(request);
        return request;
    }

    private static string ReadError(string json, LimitsOptions? limits = null) => ReadErrorBytes(Encoding.UTF8.GetBytes(json), limits);

    private static string ReadErrorBytes(byte[] json, LimitsOptions? limits = null)
    {
        var (request, error) = DeliveryRequestReader.Read(json, limits ?? Limits);
        Assert.Null(request);
        Assert.NotNull(error);
        Assert.EndsWith(".", error, StringComparison.Ordinal);
        return error;
    }

    private const string BadTextError =
        "The body contains a string that is not valid UTF-8 or holds an unpaired surrogate escape such as \\ud800; send valid UTF-8 JSON.";

    private static string WithParameters(string parametersJson) =>
        $"{{{Web},\"execute\":{{\"pageLoad\":{{\"profileParameters\":{parametersJson}}}}}}}";

    private static IReadOnlyList<ProfileAttribute> Parameters(string parametersJson, LimitsOptions? limits = null) =>
        ReadOk(WithParameters(parametersJson), limits).ProfileParameters;

    // ---- context ----

    [Theory]
    [InlineData("web")]
    [InlineData("mobile")]
    public void Minimal_request_with_a_channel_is_accepted(string channel)
    {
        var request = ReadOk($"{{\"context\":{{\"channel\":\"{channel}\"}}}}");
        Assert.Null(request.TntId);
        Assert.Null(request.ThirdPartyId);
        Assert.Null(request.RequestId);
        Assert.Empty(request.ProfileParameters);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"context\":null}")]
    [InlineData("{\"context\":\"web\"}")]
    [InlineData("{\"context\":[{\"channel\":\"web\"}]}")]
    [InlineData("{\"channel\":\"web\"}")]
    public void Missing_context_is_refused(string json)
    {
        Assert.Equal("context is required: send {\"context\":{\"channel\":\"web\"}} at least.", ReadError(json));
    }

    [Theory]
    [InlineData("{\"context\":{}}")]
    [InlineData("{\"context\":{\"channel\":null}}")]
    [InlineData("{\"context\":{\"channel\":\"\"}}")]
    [InlineData("{\"context\":{\"channel\":\"Web\"}}")]
    [InlineData("{\"context\":{\"channel\":\"WEB\"}}")]
    [InlineData("{\"context\":{\"channel\":\"web \"}}")]
    [InlineData("{\"context\":{\"channel\":\"email\"}}")]
    [InlineData("{\"context\":{\"channel\":1}}")]
    [InlineData("{\"context\":{\"channel\":[\"web\"]}}")]
    [InlineData("{\"context\":{\"Channel\":\"web\"}}")]
    public void Missing_or_invalid_channel_is_refused(string json)
    {
        Assert.Equal("context.channel is required and must be \"web\" or \"mobile\".", ReadError(json));
    }

    [Fact]
    public void Escaped_channel_value_is_decoded_before_comparing()
    {
        Assert.NotNull(ReadOk("{\"context\":{\"channel\":\"\\u0077eb\"}}"));
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[{\"context\":{\"channel\":\"web\"}}]")]
    [InlineData("\"web\"")]
    [InlineData("42")]
    [InlineData("null")]
    [InlineData("true")]
    public void Non_object_root_is_refused(string json)
    {
        Assert.Equal("The body must be a JSON object.", ReadError(json));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("{")]
    [InlineData("{\"context\":{\"channel\":\"web\"}")]
    [InlineData("{\"context\":{\"channel\":\"web\"}}}")]
    [InlineData("{\"context\":{\"channel\":\"web\"},}")]
    [InlineData("{'context':{'channel':'web'}}")]
    [InlineData("{context:{channel:\"web\"}}")]
    [InlineData("/* c */{\"context\":{\"channel\":\"web\"}}")]
    [InlineData("{\"context\":{\"channel\":\"web\"}} {}")]
    [InlineData("{\"a\":01}")]
    [InlineData("{\"a\":NaN}")]
    [InlineData("{\"a\":\"\\x41\"}")]
    [InlineData("{\"a\":\"\\u12G4\"}")]
    [InlineData("{\"a\":\"tab\there\"}")]
    public void Invalid_json_is_refused(string json)
    {
        Assert.Equal("The body is not valid JSON (or nests deeper than 64 levels); send a Delivery API request object.", ReadError(json));
    }

    [Fact]
    public void Invalid_utf8_in_the_body_is_refused_not_thrown()
    {
        var json = Encoding.UTF8.GetBytes("{\"context\":{\"channel\":\"web\"},\"requestId\":\"ab\"}");
        json[^3] = 0xFF; // "a\xFFb" inside the requestId string
        Assert.Equal(BadTextError, ReadErrorBytes(json));
    }

    [Fact]
    public void Invalid_utf8_in_a_profile_parameter_is_refused_not_thrown()
    {
        var json = Encoding.UTF8.GetBytes(WithParameters("{\"city\":\"K_ln\"}"));
        var at = Array.IndexOf(json, (byte)'_');
        json[at] = 0xF6; // Latin-1 ö
        Assert.Equal(BadTextError, ReadErrorBytes(json));
    }

    [Theory]
    [InlineData("{\"context\":{\"channel\":\"web\"},\"requestId\":\"\\ud800\"}")]
    [InlineData("{\"context\":{\"channel\":\"web\"},\"requestId\":\"\\udc00x\"}")]
    [InlineData("{\"context\":{\"channel\":\"web\"},\"id\":{\"thirdPartyId\":\"\\ud83d\"}}")]
    [InlineData("{\"context\":{\"channel\":\"web\"},\"id\":{\"tntId\":\"\\ud83d\\ud83d\"}}")]
    [InlineData("{\"context\":{\"channel\":\"\\ud800\"}}")]
    [InlineData("{\"context\":{\"channel\":\"web\"},\"execute\":{\"pageLoad\":{\"profileParameters\":{\"a\":\"\\ud800\"}}}}")]
    [InlineData("{\"context\":{\"channel\":\"web\"},\"execute\":{\"pageLoad\":{\"profileParameters\":{\"\\udfff\":\"x\"}}}}")]
    public void Lone_surrogate_escapes_are_refused_not_thrown(string json)
    {
        Assert.Equal(BadTextError, ReadError(json));
    }

    [Fact]
    public void Invalid_text_in_an_ignored_field_is_not_read_and_so_not_refused()
    {
        var json = Encoding.UTF8.GetBytes($"{{{Web},\"experienceCloud\":\"a_b\",\"x\":\"\\ud800\"}}");
        json[Array.IndexOf(json, (byte)'_')] = 0xFF;
        var (request, error) = DeliveryRequestReader.Read(json, Limits);
        Assert.Null(error);
        Assert.NotNull(request);
    }

    [Fact]
    public void Properly_paired_surrogate_escape_decodes()
    {
        Assert.Equal([new ProfileAttribute("mood", "😀")], Parameters("{\"mood\":\"\\ud83d\\ude00\"}"));
    }

    // ---- nesting ----

    private static string Nested(int depth)
    {
        // The root object is level 1, so "x" holds depth - 1 levels of arrays.
        var arrays = depth - 1;
        return $"{{{Web},\"x\":{new string('[', arrays)}{new string(']', arrays)}}}";
    }

    [Fact]
    public void Nesting_of_64_levels_is_accepted()
    {
        Assert.NotNull(ReadOk(Nested(64)));
    }

    [Theory]
    [InlineData(65)]
    [InlineData(1000)]
    [InlineData(100_000)]
    public void Nesting_deeper_than_64_levels_is_refused(int depth)
    {
        Assert.Contains("nests deeper than 64 levels", ReadError(Nested(depth)), StringComparison.Ordinal);
    }

    // ---- unknown fields ----

    [Fact]
    public void Unknown_fields_everywhere_are_ignored()
    {
        const string json = """
            {
              "requestId": "r-1",
              "experienceCloud": { "analytics": { "logging": "server_side" } },
              "property": { "token": "abc" },
              "context": { "channel": "mobile", "address": { "url": "https://example.com/" }, "userAgent": "x", "screen": { "width": 1 } },
              "id": { "tntId": "abc.28_20", "marketingCloudVisitorId": "123", "customerIds": [ { "id": "1" } ] },
              "execute": {
                "pageLoad": { "parameters": { "a": "b" }, "profileParameters": { "city": "Köln" }, "order": {} },
                "mboxes": [ { "name": "m", "index": 1, "profileParameters": { "ignored": "yes" } } ]
              },
              "prefetch": { "views": [ {} ] },
              "notifications": []
            }
            """;
        var request = ReadOk(json);
        Assert.Equal("r-1", request.RequestId);
        Assert.Equal("abc.28_20", request.TntId);
        Assert.Null(request.ThirdPartyId);
        Assert.Equal([new ProfileAttribute("city", "Köln")], request.ProfileParameters);
    }

    [Theory]
    [InlineData("\"execute\":null")]
    [InlineData("\"execute\":[]")]
    [InlineData("\"execute\":{}")]
    [InlineData("\"execute\":{\"pageLoad\":null}")]
    [InlineData("\"execute\":{\"pageLoad\":\"x\"}")]
    [InlineData("\"execute\":{\"pageLoad\":{}}")]
    [InlineData("\"execute\":{\"pageLoad\":{\"profileParameters\":null}}")]
    [InlineData("\"execute\":{\"pageLoad\":{\"profileParameters\":{}}}")]
    public void Absent_or_empty_profile_parameters_give_none(string execute)
    {
        Assert.Empty(ReadOk($"{{{Web},{execute}}}").ProfileParameters);
    }

    [Fact]
    public void Non_string_requestId_is_ignored()
    {
        Assert.Null(ReadOk($"{{{Web},\"requestId\":42}}").RequestId);
    }

    // ---- id ----

    [Fact]
    public void Ids_are_read_and_returned_as_given()
    {
        var request = ReadOk($"{{{Web},\"id\":{{\"tntId\":\"ca5ddd7e33504c58b70d45d0368bcc70.21_3\",\"thirdPartyId\":\"Customer 42 Köln\"}}}}");
        Assert.Equal("ca5ddd7e33504c58b70d45d0368bcc70.21_3", request.TntId);
        Assert.Equal("Customer 42 Köln", request.ThirdPartyId);
    }

    [Theory]
    [InlineData("\"id\":null")]
    [InlineData("\"id\":{}")]
    [InlineData("\"id\":{\"tntId\":null,\"thirdPartyId\":null}")]
    public void Absent_or_null_ids_give_none(string id)
    {
        var request = ReadOk($"{{{Web},{id}}}");
        Assert.Null(request.TntId);
        Assert.Null(request.ThirdPartyId);
    }

    [Theory]
    [InlineData("{\"thirdPartyId\":\"\"}", "id.thirdPartyId")]
    [InlineData("{\"tntId\":\"\"}", "id.tntId")]
    [InlineData("{\"tntId\":\"\",\"thirdPartyId\":\"\"}", "id.tntId")]
    [InlineData("{\"tntId\":\"abc.28_20\",\"thirdPartyId\":\"\"}", "id.thirdPartyId")]
    [InlineData("{\"tntId\":\"\",\"thirdPartyId\":\"crm-42\"}", "id.tntId")]
    public void Empty_ids_are_refused_not_read_as_absent(string id, string field)
    {
        // Read as absent, an empty thirdPartyId would create an anonymous profile and drop the link the caller meant.
        Assert.Equal($"{field} must not be empty; leave it out (or send null) for a visitor without one.", ReadError($"{{{Web},\"id\":{id}}}"));
    }

    [Theory]
    [InlineData(" ")]
    [InlineData("\\t")]
    public void Blank_tntId_is_refused_by_the_tntId_characters(string tnt)
    {
        Assert.Equal("id.tntId may contain only letters, digits, '-', '_' and one '.' before the location hint.",
            ReadError($"{{{Web},\"id\":{{\"tntId\":\"{tnt}\"}}}}"));
    }

    [Fact]
    public void Whitespace_thirdPartyId_follows_the_single_update_rules()
    {
        // Terms (docs/api.md): a thirdPartyId is 1-256 characters without '+', '/' or control characters; a space is a
        // character like any other there, in a single update as in a visit, so the two endpoints name the same visitor.
        Assert.Equal(" ", ReadOk($"{{{Web},\"id\":{{\"thirdPartyId\":\" \"}}}}").ThirdPartyId);
        Assert.Equal("id.thirdPartyId must not contain control characters.", ReadError($"{{{Web},\"id\":{{\"thirdPartyId\":\"\\t\"}}}}"));
    }

    [Theory]
    [InlineData("\"x\"")]
    [InlineData("[]")]
    [InlineData("1")]
    [InlineData("true")]
    public void Non_object_id_is_refused(string id)
    {
        Assert.Equal("id must be an object such as {\"tntId\":\"…\"} or {\"thirdPartyId\":\"…\"}.", ReadError($"{{{Web},\"id\":{id}}}"));
    }

    [Theory]
    [InlineData("1")]
    [InlineData("true")]
    [InlineData("{}")]
    [InlineData("[\"a\"]")]
    public void Non_string_tntId_is_refused(string value)
    {
        Assert.Equal("id.tntId must be a string.", ReadError($"{{{Web},\"id\":{{\"tntId\":{value}}}}}"));
    }

    [Fact]
    public void Non_string_thirdPartyId_is_refused()
    {
        Assert.Equal("id.thirdPartyId must be a string.", ReadError($"{{{Web},\"id\":{{\"thirdPartyId\":42}}}}"));
    }

    [Theory]
    [InlineData("a b", "id.tntId may contain only letters, digits, '-', '_' and one '.' before the location hint.")]
    [InlineData("a.b.c", "id.tntId may contain at most one '.', the one before the location hint.")]
    [InlineData("a.", "id.tntId must have characters on both sides of its '.'.")]
    public void Invalid_tntId_is_refused(string tnt, string expected)
    {
        Assert.Equal(expected, ReadError($"{{{Web},\"id\":{{\"tntId\":\"{tnt}\"}}}}"));
    }

    [Fact]
    public void TntId_of_128_is_accepted_and_129_refused()
    {
        Assert.NotNull(ReadOk($"{{{Web},\"id\":{{\"tntId\":\"{new string('a', 128)}\"}}}}").TntId);
        Assert.Equal("id.tntId must be at most 128 characters.", ReadError($"{{{Web},\"id\":{{\"tntId\":\"{new string('a', 129)}\"}}}}"));
    }

    [Theory]
    [InlineData("a+b")]
    [InlineData("a/b")]
    [InlineData("a\\/b")] // an escaped slash is still a slash
    [InlineData("a\\u002Bb")]
    public void ThirdPartyId_with_plus_or_slash_is_refused(string raw)
    {
        Assert.Equal("id.thirdPartyId must not contain '+' or '/'.", ReadError($"{{{Web},\"id\":{{\"thirdPartyId\":\"{raw}\"}}}}"));
    }

    [Fact]
    public void ThirdPartyId_of_256_characters_is_accepted_and_257_refused()
    {
        var emoji256 = string.Concat(Enumerable.Repeat("😀", 256));
        Assert.Equal(emoji256, ReadOk($"{{{Web},\"id\":{{\"thirdPartyId\":\"{emoji256}\"}}}}").ThirdPartyId);
        Assert.Equal(
            "id.thirdPartyId must be at most 256 characters.",
            ReadError($"{{{Web},\"id\":{{\"thirdPartyId\":\"{new string('x', 257)}\"}}}}"));
    }

    [Fact]
    public void ThirdPartyId_with_a_control_character_is_refused()
    {
        Assert.Equal("id.thirdPartyId must not contain control characters.", ReadError($"{{{Web},\"id\":{{\"thirdPartyId\":\"a\\nb\"}}}}"));
    }

    // ---- profile parameters ----

    [Fact]
    public void String_number_and_boolean_values_are_accepted_as_text()
    {
        var parameters = Parameters("""{"s":"Köln","i":42,"d":1.50,"e":-3e2,"t":true,"f":false,"cjk":"東京","emoji":"😀"}""");
        Assert.Equal(
            [
                new("s", "Köln"), new("i", "42"), new("d", "1.50"), new("e", "-3e2"),
                new("t", "true"), new("f", "false"), new("cjk", "東京"), new ProfileAttribute("emoji", "😀"),
            ],
            parameters);
    }

    [Theory]
    [InlineData("null")]
    [InlineData("{}")]
    [InlineData("[]")]
    [InlineData("[\"a\"]")]
    public void Other_value_kinds_are_refused(string value)
    {
        Assert.Equal(
            "Profile parameter 'a' must be a string, number or boolean.",
            ReadError(WithParameters($"{{\"a\":{value}}}")));
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"a=b\"")]
    [InlineData("1")]
    public void Non_object_profile_parameters_are_refused(string value)
    {
        Assert.Equal("execute.pageLoad.profileParameters must be an object of name → value.", ReadError(WithParameters(value)));
    }

    [Fact]
    public void Empty_values_are_ignored()
    {
        Assert.Equal([new ProfileAttribute("b", "2")], Parameters("""{"a":"","b":"2"}"""));
    }

    private static string ManyParameters(int count) =>
        "{" + string.Join(",", Enumerable.Range(0, count).Select(i => $"\"p{i}\":\"v{i}\"")) + "}";

    [Fact]
    public void Fifty_parameters_are_accepted()
    {
        var parameters = Parameters(ManyParameters(50));
        Assert.Equal(50, parameters.Count);
        Assert.Equal(new ProfileAttribute("p49", "v49"), parameters[49]);
    }

    [Theory]
    [InlineData(51)]
    [InlineData(1000)]
    public void More_than_fifty_parameters_are_refused(int count)
    {
        Assert.Equal("execute.pageLoad.profileParameters may hold at most 50 entries.", ReadError(WithParameters(ManyParameters(count))));
    }

    [Fact]
    public void Fifty_one_parameters_are_refused_even_when_some_are_empty()
    {
        var json = "{" + string.Join(",", Enumerable.Range(0, 51).Select(i => $"\"p{i}\":\"\"")) + "}";
        Assert.Contains("at most 50 entries", ReadError(WithParameters(json)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("profile.city")]
    [InlineData("profile.")]
    public void Profile_prefix_is_refused(string name)
    {
        Assert.Equal(
            $"Profile parameter '{name}' must be the bare attribute name, without the 'profile.' prefix.",
            ReadError(WithParameters($"{{\"{name}\":\"x\"}}")));
    }

    [Fact]
    public void Profile_prefix_check_is_case_sensitive()
    {
        Assert.Equal([new ProfileAttribute("Profile.city", "x")], Parameters("""{"Profile.city":"x"}"""));
    }

    [Fact]
    public void Empty_name_is_refused()
    {
        Assert.Equal("Profile parameter '' is empty; an attribute needs a name of 1-128 characters.", ReadError(WithParameters("""{"":"x"}""")));
    }

    [Fact]
    public void Name_of_128_characters_is_accepted_and_129_refused()
    {
        var emoji128 = string.Concat(Enumerable.Repeat("😀", 128));
        Assert.Equal(emoji128, Parameters($"{{\"{emoji128}\":\"x\"}}")[0].Name);
        Assert.EndsWith("' is longer than 128 characters.", ReadError(WithParameters($"{{\"{new string('n', 129)}\":\"x\"}}")), StringComparison.Ordinal);
    }

    [Fact]
    public void Value_of_256_characters_is_accepted_and_257_refused()
    {
        var emoji256 = string.Concat(Enumerable.Repeat("😀", 256));
        Assert.Equal(emoji256, Parameters($"{{\"a\":\"{emoji256}\"}}")[0].Value);
        Assert.Equal(
            "The value of profile parameter 'a' is longer than 256 characters.",
            ReadError(WithParameters($"{{\"a\":\"{new string('v', 257)}\"}}")));
    }

    [Fact]
    public void Long_number_is_measured_like_text()
    {
        Assert.Contains("longer than 256", ReadError(WithParameters($"{{\"a\":{new string('9', 257)}}}")), StringComparison.Ordinal);
    }

    [Fact]
    public void Limits_come_from_the_options()
    {
        var limits = new LimitsOptions { MaxNameLength = 2, MaxValueLength = 3 };
        Assert.Equal([new ProfileAttribute("ab", "xyz")], Parameters("""{"ab":"xyz"}""", limits));
        Assert.Equal("Profile parameter 'abc' is longer than 2 characters.", ReadError(WithParameters("""{"abc":"x"}"""), limits));
        Assert.Contains("longer than 3 characters", ReadError(WithParameters("""{"a":"wxyz"}"""), limits), StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_names_are_refused()
    {
        Assert.Equal("Profile parameter 'a' appears more than once; give each attribute once.", ReadError(WithParameters("""{"a":"1","a":"2"}""")));
    }

    [Fact]
    public void Duplicate_names_via_escapes_are_refused()
    {
        Assert.Contains("more than once", ReadError(WithParameters("""{"a":"1","\u0061":"2"}""")), StringComparison.Ordinal);
    }

    [Fact]
    public void Names_differing_in_case_are_distinct()
    {
        Assert.Equal(2, Parameters("""{"a":"1","A":"2"}""").Count);
    }

    [Fact]
    public void Control_character_in_a_name_is_refused()
    {
        Assert.Equal("Profile parameter 'a?b' contains a control character.", ReadError(WithParameters("""{"a\u0000b":"x"}""")));
    }

    [Theory]
    [InlineData("a\\u0000b")]
    [InlineData("\\u001b[0m")]
    [InlineData("\\u007f")]
    public void Control_character_in_a_value_is_refused(string raw)
    {
        Assert.Equal(
            "The value of profile parameter 'a' contains a control character other than tab or line break.",
            ReadError(WithParameters($"{{\"a\":\"{raw}\"}}")));
    }

    [Fact]
    public void Tab_and_line_breaks_in_a_value_are_accepted()
    {
        Assert.Equal([new ProfileAttribute("a", "1\t2\r\n3")], Parameters("""{"a":"1\t2\r\n3"}"""));
    }
}
