using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Text;
using ProfileUpdate.Api.Profiles;
using ProfileUpdate.Api.Updates;

namespace ProfileUpdate.Tests.Updates;

public sealed class UpdateRequestParserTests
{
    private const string TntId = "ca5ddd7e33504c58b70d45d0368bcc70.21_3";
    private static readonly LimitsOptions Limits = new();

    private static List<UrlParameter> Params(params (string Name, string Value)[] pairs) =>
        [.. pairs.Select(p => new UrlParameter(p.Name, p.Value))];

    private static UpdateRequest ParseOk(List<UrlParameter> query, List<UrlParameter> body, LimitsOptions? limits = null)
    {
        var result = UpdateRequestParser.Parse(query, body, limits ?? Limits);
        Assert.Null(result.Error);
        Assert.NotNull(result.Value);
        return result.Value;
    }

    private static UpdateRequest ParseOk(params (string Name, string Value)[] query) => ParseOk(Params(query), []);

    private static string ParseError(List<UrlParameter> query, List<UrlParameter> body, LimitsOptions? limits = null)
    {
        var result = UpdateRequestParser.Parse(query, body, limits ?? Limits);
        Assert.Null(result.Value);
        Assert.NotNull(result.Error);
        AssertIsSentence(result.Error);
        return result.Error;
    }

    private static string ParseError(params (string Name, string Value)[] query) => ParseError(Params(query), []);

    private static void AssertIsSentence(string error)
    {
        Assert.True(error.Length >= 20, $"Error too short to act on: '{error}'");
        Assert.EndsWith(".", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", error, StringComparison.Ordinal);
    }

    // ---- identity ----

    [Fact]
    public void TntId_with_location_hint_is_accepted_and_echoed_as_given()
    {
        var request = ParseOk(("mboxPC", TntId), ("profile.city", "Köln"));
        Assert.Equal(VisitorIdentity.Tnt(TntId), request.Identity);
        Assert.Equal([new ProfileAttribute("city", "Köln")], request.Attributes);
    }

    [Theory]
    [InlineData("1368007744041-575948.01_00")]
    [InlineData("1368007744041-575948")]
    [InlineData("ABC_def-123")]
    public void Adobe_style_tntIds_are_accepted(string tnt)
    {
        Assert.Equal(VisitorIdentity.Tnt(tnt), ParseOk(("mboxPC", tnt), ("profile.a", "1")).Identity);
    }

    [Fact]
    public void ThirdPartyId_is_accepted()
    {
        var request = ParseOk(("mbox3rdPartyId", "customer 42@example.com"), ("profile.a", "1"));
        Assert.Equal(new VisitorIdentity(IdentityKind.ThirdPartyId, "customer 42@example.com"), request.Identity);
    }

    [Fact]
    public void No_identity_is_refused_naming_both_accepted_parameters()
    {
        var error = ParseError(("profile.a", "1"));
        Assert.StartsWith("No visitor id given.", error, StringComparison.Ordinal);
        Assert.Contains("mboxPC", error, StringComparison.Ordinal);
        Assert.Contains("mbox3rdPartyId", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Both_identities_are_refused()
    {
        var error = ParseError(("mboxPC", TntId), ("mbox3rdPartyId", "c1"), ("profile.a", "1"));
        Assert.StartsWith("Both mboxPC and mbox3rdPartyId are given.", error, StringComparison.Ordinal);
        Assert.Contains("exactly one of mboxPC", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Both_identities_split_over_query_and_body_are_refused()
    {
        var error = ParseError(Params(("mboxPC", TntId)), Params(("mbox3rdPartyId", "c1"), ("profile.a", "1")));
        Assert.StartsWith("Both mboxPC and mbox3rdPartyId", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mboxMCGVID")]
    [InlineData("marketingCloudVisitorId")]
    public void Ecid_parameters_are_refused_even_with_a_valid_identity(string ecid)
    {
        var error = ParseError(("mboxPC", TntId), (ecid, "12345678901234567890"), ("profile.a", "1"));
        Assert.StartsWith($"{ecid} (Experience Cloud ID) is not accepted", error, StringComparison.Ordinal);
        Assert.Contains("mboxPC", error, StringComparison.Ordinal);
        Assert.Contains("mbox3rdPartyId", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Ecid_parameter_alone_is_refused_as_ecid_not_as_missing_id()
    {
        var error = ParseError(("mboxMCGVID", "1"), ("profile.a", "1"));
        Assert.StartsWith("mboxMCGVID (Experience Cloud ID)", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Ecid_parameter_in_the_body_is_refused()
    {
        var error = ParseError(Params(("mbox3rdPartyId", "c1")), Params(("marketingCloudVisitorId", "1"), ("profile.a", "1")));
        Assert.StartsWith("marketingCloudVisitorId (Experience Cloud ID)", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Identity_parameters_are_case_sensitive()
    {
        // "mboxpc" is an unknown parameter and therefore ignored, so no id is given.
        Assert.StartsWith("No visitor id given.", ParseError(("mboxpc", TntId), ("profile.a", "1")), StringComparison.Ordinal);
    }

    [Fact]
    public void Repeated_mboxPC_is_refused()
    {
        Assert.StartsWith("mboxPC is given more than once.", ParseError(("mboxPC", TntId), ("mboxPC", TntId), ("profile.a", "1")), StringComparison.Ordinal);
    }

    [Fact]
    public void Repeated_mbox3rdPartyId_is_refused()
    {
        Assert.StartsWith("mbox3rdPartyId is given more than once.", ParseError(("mbox3rdPartyId", "a"), ("mbox3rdPartyId", "b"), ("profile.a", "1")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "mboxPC must not be empty.")]
    [InlineData("abc def", "mboxPC may contain only letters, digits, '-', '_' and one '.' before the location hint.")]
    [InlineData("abc/def", "mboxPC may contain only letters, digits, '-', '_' and one '.' before the location hint.")]
    [InlineData("a.b.c", "mboxPC may contain at most one '.', the one before the location hint.")]
    [InlineData(".21_3", "mboxPC must have characters on both sides of its '.'.")]
    [InlineData("abc.", "mboxPC must have characters on both sides of its '.'.")]
    public void Invalid_tntId_is_refused(string tnt, string expected)
    {
        Assert.Equal(expected, ParseError(("mboxPC", tnt), ("profile.a", "1")));
    }

    [Fact]
    public void TntId_longer_than_128_is_refused()
    {
        Assert.NotNull(ParseOk(("mboxPC", new string('a', 128)), ("profile.a", "1")));
        Assert.Equal("mboxPC must be at most 128 characters.", ParseError(("mboxPC", new string('a', 129)), ("profile.a", "1")));
    }

    [Theory]
    [InlineData("user+1")]
    [InlineData("a/b")]
    [InlineData("+")]
    [InlineData("/")]
    public void ThirdPartyId_with_plus_or_slash_is_refused_without_echoing_it(string id)
    {
        var error = ParseError(("mbox3rdPartyId", id), ("profile.a", "1"));
        Assert.Equal("mbox3rdPartyId must not contain '+' or '/'.", error);
    }

    [Fact]
    public void Empty_thirdPartyId_is_refused()
    {
        Assert.Equal("mbox3rdPartyId must not be empty.", ParseError(("mbox3rdPartyId", ""), ("profile.a", "1")));
    }

    [Fact]
    public void ThirdPartyId_length_is_counted_in_characters()
    {
        Assert.NotNull(ParseOk(("mbox3rdPartyId", string.Concat(Enumerable.Repeat("😀", 256))), ("profile.a", "1")));
        Assert.Equal(
            "mbox3rdPartyId must be at most 256 characters.",
            ParseError(("mbox3rdPartyId", new string('x', 257)), ("profile.a", "1")));
    }

    [Fact]
    public void ThirdPartyId_with_a_control_character_is_refused()
    {
        Assert.Equal("mbox3rdPartyId must not contain control characters.", ParseError(("mbox3rdPartyId", "a\nb"), ("profile.a", "1")));
    }

    // ---- attributes ----

    [Fact]
    public void Attributes_are_stored_without_prefix_in_request_order_query_first()
    {
        var request = ParseOk(
            Params(("profile.b", "2"), ("mboxPC", TntId), ("profile.a", "1")),
            Params(("profile.c", "3"), ("profile.A", "4")));
        Assert.Equal(
            [new("b", "2"), new("a", "1"), new("c", "3"), new ProfileAttribute("A", "4")],
            request.Attributes);
    }

    [Fact]
    public void Identity_and_attributes_may_all_come_from_the_body()
    {
        var request = ParseOk([], Params(("mbox3rdPartyId", "c1"), ("profile.a", "1")));
        Assert.Equal(VisitorIdentity.ThirdParty("c1"), request.Identity);
        Assert.Equal([new ProfileAttribute("a", "1")], request.Attributes);
    }

    [Fact]
    public void Values_and_names_are_kept_exactly_including_case_and_unicode()
    {
        var request = ParseOk(("mboxPC", TntId), ("profile.Stadt", "Köln"), ("profile.都市", "東京"), ("profile.mood", "😀 ok"));
        Assert.Equal(
            [new("Stadt", "Köln"), new("都市", "東京"), new ProfileAttribute("mood", "😀 ok")],
            request.Attributes);
    }

    [Fact]
    public void Attribute_name_may_contain_dots()
    {
        Assert.Equal([new ProfileAttribute("a.b", "1")], ParseOk(("mboxPC", TntId), ("profile.a.b", "1")).Attributes);
    }

    [Fact]
    public void No_profile_parameter_is_refused()
    {
        var error = ParseError(("mboxPC", TntId), ("other", "1"));
        Assert.Equal("No profile attribute given; add at least one parameter profile.<name>=<value>.", error);
    }

    [Fact]
    public void A_get_whose_body_was_not_read_is_told_so_when_an_id_or_attribute_is_missing()
    {
        const string notRead = " This GET came with a body, which is not read: send the parameters in the query string, or POST them as the form body.";
        var noAttribute = UpdateRequestParser.Parse(Params(("mboxPC", TntId)), [], Limits, unreadBody: true).Error;
        Assert.Equal("No profile attribute given; add at least one parameter profile.<name>=<value>." + notRead, noAttribute);
        var noId = UpdateRequestParser.Parse(Params(("profile.a", "1")), [], Limits, unreadBody: true).Error;
        Assert.NotNull(noId);
        Assert.StartsWith("No visitor id given.", noId, StringComparison.Ordinal);
        Assert.EndsWith(notRead, noId, StringComparison.Ordinal);
        // Other refusals have nothing to do with the body and do not mention it.
        var other = UpdateRequestParser.Parse(Params(("mboxPC", "a b"), ("profile.a", "1")), [], Limits, unreadBody: true).Error;
        Assert.NotNull(other);
        Assert.DoesNotContain("body", other, StringComparison.Ordinal);
    }

    [Fact]
    public void Profile_prefix_is_case_sensitive()
    {
        Assert.StartsWith("No profile attribute given", ParseError(("mboxPC", TntId), ("Profile.a", "1"), ("PROFILE.b", "2")), StringComparison.Ordinal);
    }

    [Fact]
    public void Profile_prefix_without_name_is_refused()
    {
        Assert.Equal(
            "A parameter 'profile.' has no attribute name; write profile.<name>=<value>.",
            ParseError(("mboxPC", TntId), ("profile.", "1")));
    }

    [Fact]
    public void Empty_values_are_ignored()
    {
        var request = ParseOk(("mboxPC", TntId), ("profile.a", ""), ("profile.b", "2"));
        Assert.Equal([new ProfileAttribute("b", "2")], request.Attributes);
    }

    [Fact]
    public void Only_empty_values_still_count_as_profile_parameters()
    {
        var request = ParseOk(("mboxPC", TntId), ("profile.a", ""));
        Assert.Empty(request.Attributes);
    }

    [Fact]
    public void Whitespace_value_is_not_empty()
    {
        Assert.Equal([new ProfileAttribute("a", " ")], ParseOk(("mboxPC", TntId), ("profile.a", " ")).Attributes);
    }

    [Fact]
    public void Other_parameters_are_ignored()
    {
        var request = ParseOk(("mbox", "target-global-mbox"), ("mboxPC", TntId), ("at_property", "x"), ("profile.a", "1"), ("", "z"));
        Assert.Equal([new ProfileAttribute("a", "1")], request.Attributes);
    }

    [Fact]
    public void Repeated_ignored_parameter_is_not_an_error()
    {
        Assert.NotNull(ParseOk(("mboxPC", TntId), ("x", "1"), ("x", "2"), ("profile.a", "1")));
    }

    [Fact]
    public void Duplicate_profile_parameter_in_the_query_is_refused()
    {
        Assert.Equal(
            "Parameter 'profile.a' is given more than once; send each attribute once per request.",
            ParseError(("mboxPC", TntId), ("profile.a", "1"), ("profile.a", "2")));
    }

    [Fact]
    public void Duplicate_profile_parameter_in_the_body_is_refused()
    {
        var error = ParseError(Params(("mboxPC", TntId)), Params(("profile.a", "1"), ("profile.a", "1")));
        Assert.Contains("'profile.a' is given more than once", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", "x")]
    [InlineData("x", "")]
    [InlineData("", "")]
    public void Duplicate_profile_parameter_is_refused_even_when_a_value_is_empty(string first, string second)
    {
        Assert.Contains("more than once", ParseError(("mboxPC", TntId), ("profile.a", first), ("profile.a", second)), StringComparison.Ordinal);
    }

    /// <summary>
    /// Names are compared one by one for the first few and through a set past them: a repeat is found wherever it falls,
    /// whether the earlier one was set or empty, and as many distinct names as there are pass.
    /// </summary>
    [Theory]
    [InlineData(1, 0)]
    [InlineData(7, 0)]
    [InlineData(7, 6)]
    [InlineData(8, 0)]
    [InlineData(8, 7)]
    [InlineData(9, 3)]
    [InlineData(20, 0)]
    [InlineData(20, 19)]
    [InlineData(20, 11)]
    public void A_repeated_attribute_is_refused_wherever_it_falls_among_many(int distinct, int repeatOf)
    {
        var names = Enumerable.Range(0, distinct).Select(i => ($"profile.n{i}", i % 3 == 0 ? "" : "v")).ToList();
        Assert.Equal(distinct - names.Count(n => n.Item2.Length == 0),
            ParseOk([("mboxPC", TntId), .. names]).Attributes.Count);
        Assert.Equal($"Parameter 'profile.n{repeatOf}' is given more than once; send each attribute once per request.",
            ParseError([("mboxPC", TntId), .. names, ($"profile.n{repeatOf}", "again")]));
    }

    [Fact]
    public void Profile_names_differing_only_in_case_are_distinct()
    {
        Assert.Equal(2, ParseOk(("mboxPC", TntId), ("profile.a", "1"), ("profile.A", "2")).Attributes.Count);
    }

    [Theory]
    [InlineData("profile.a")]
    [InlineData("mboxPC")]
    [InlineData("unrelated")]
    public void Same_name_in_query_and_body_is_refused(string name)
    {
        var error = ParseError(
            Params(("mboxPC", TntId), ("profile.a", "1"), ("unrelated", "q")),
            Params((name, "2")));
        Assert.Equal($"Parameter '{name}' appears in both the query string and the body; send it once.", error);
    }

    [Fact]
    public void Different_names_in_query_and_body_are_merged()
    {
        var request = ParseOk(Params(("mboxPC", TntId), ("profile.a", "1")), Params(("profile.b", "2")));
        Assert.Equal([new("a", "1"), new ProfileAttribute("b", "2")], request.Attributes);
    }

    [Fact]
    public void Name_of_exactly_the_limit_is_accepted_and_one_more_is_refused()
    {
        var atLimit = new string('n', 128);
        Assert.Equal(atLimit, ParseOk(("mboxPC", TntId), ("profile." + atLimit, "1")).Attributes[0].Name);

        var error = ParseError(("mboxPC", TntId), ("profile." + atLimit + "n", "1"));
        Assert.StartsWith("Attribute name '", error, StringComparison.Ordinal);
        Assert.EndsWith("' is longer than 128 characters.", error, StringComparison.Ordinal);
        Assert.Contains("…", error, StringComparison.Ordinal); // the echoed name is clipped
    }

    [Fact]
    public void Name_length_counts_characters_not_utf16_units()
    {
        var emojiName = string.Concat(Enumerable.Repeat("😀", 128));
        Assert.Equal(emojiName, ParseOk(("mboxPC", TntId), ("profile." + emojiName, "1")).Attributes[0].Name);
        Assert.Contains("longer than 128", ParseError(("mboxPC", TntId), ("profile." + emojiName + "😀", "1")), StringComparison.Ordinal);
    }

    [Fact]
    public void Value_of_exactly_the_limit_is_accepted_and_one_more_is_refused()
    {
        var atLimit = new string('v', 256);
        Assert.Equal(atLimit, ParseOk(("mboxPC", TntId), ("profile.a", atLimit)).Attributes[0].Value);
        Assert.Equal(
            "The value of 'profile.a' is longer than 256 characters.",
            ParseError(("mboxPC", TntId), ("profile.a", atLimit + "v")));
    }

    [Fact]
    public void Value_length_counts_characters_not_utf16_units()
    {
        var emojiValue = string.Concat(Enumerable.Repeat("😀", 256));
        Assert.Equal(emojiValue, ParseOk(("mboxPC", TntId), ("profile.a", emojiValue)).Attributes[0].Value);
        var cjk = new string('東', 257);
        Assert.Contains("longer than 256", ParseError(("mboxPC", TntId), ("profile.a", cjk)), StringComparison.Ordinal);
    }

    [Fact]
    public void Name_of_unpaired_surrogates_is_not_empty_and_is_held_to_the_limit()
    {
        Assert.Contains("longer than 128", ParseError(("mboxPC", TntId), ("profile." + new string('\uDC00', 129), "1")), StringComparison.Ordinal);
    }

    [Fact]
    public void Limits_come_from_the_options()
    {
        var limits = new LimitsOptions { MaxNameLength = 3, MaxValueLength = 2 };
        Assert.NotNull(ParseOk(Params(("mboxPC", TntId), ("profile.abc", "xy")), [], limits));
        Assert.Equal(
            "Attribute name 'abcd' is longer than 3 characters.",
            ParseError(Params(("mboxPC", TntId), ("profile.abcd", "x")), [], limits));
        Assert.Equal(
            "The value of 'profile.a' is longer than 2 characters.",
            ParseError(Params(("mboxPC", TntId), ("profile.a", "xyz")), [], limits));
    }

    [Fact]
    public void Empty_value_is_ignored_even_with_the_smallest_limit()
    {
        var limits = new LimitsOptions { MaxValueLength = 1 };
        Assert.Empty(ParseOk(Params(("mboxPC", TntId), ("profile.a", "")), [], limits).Attributes);
    }

    [Theory]
    [InlineData("a\0b")]
    [InlineData("a\nb")]
    [InlineData("a\tb")]
    [InlineData("\u007f")]
    [InlineData("\u0085")]
    public void Control_character_in_a_name_is_refused(string name)
    {
        var error = ParseError(("mboxPC", TntId), ("profile." + name, "1"));
        Assert.EndsWith("contains a control character.", error, StringComparison.Ordinal);
        Assert.DoesNotContain(name, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a\0b")]
    [InlineData("\u001b[31m")]
    [InlineData("\u007f")]
    public void Control_character_in_a_value_is_refused(string value)
    {
        Assert.Equal(
            "The value of 'profile.a' contains a control character other than tab or line break.",
            ParseError(("mboxPC", TntId), ("profile.a", value)));
    }

    [Theory]
    [InlineData("line1\nline2")]
    [InlineData("line1\r\nline2")]
    [InlineData("a\tb")]
    public void Tab_and_line_breaks_in_a_value_are_accepted(string value)
    {
        Assert.Equal([new ProfileAttribute("a", value)], ParseOk(("mboxPC", TntId), ("profile.a", value)).Attributes);
    }

    [Fact]
    public void Attribute_error_is_reported_before_a_missing_identity()
    {
        // The loop validates attributes as it meets them; identity problems are judged at the end.
        Assert.Contains("more than once", ParseError(("profile.a", "1"), ("profile.a", "2")), StringComparison.Ordinal);
    }

    // ---- emptyValues=remove ----

    [Fact]
    public void Empty_values_are_removals_with_emptyValues_remove_wherever_the_parameter_stands()
    {
        var request = ParseOk(("profile.gone", ""), ("mbox3rdPartyId", "x"), ("profile.kept", "1"), ("emptyValues", "remove"), ("profile.old", ""));
        Assert.Equal([new ProfileAttribute("kept", "1")], request.Attributes);
        Assert.Equal(["gone", "old"], request.Removals);
    }

    [Fact]
    public void Removals_may_come_in_the_form_body_and_a_request_of_removals_only_is_valid()
    {
        var request = ParseOk(Params(("mbox3rdPartyId", "x")), Params(("emptyValues", "remove"), ("profile.gone", "")));
        Assert.Empty(request.Attributes);
        Assert.Equal(["gone"], request.Removals);
    }

    [Fact]
    public void Ignore_is_the_default_and_may_be_said()
    {
        Assert.Empty(ParseOk(("mbox3rdPartyId", "x"), ("profile.a", "")).Removals);
        Assert.Empty(ParseOk(("mbox3rdPartyId", "x"), ("profile.a", ""), ("emptyValues", "ignore")).Removals);
        Assert.Same(UpdateRequest.NoRemovals, ParseOk(("mbox3rdPartyId", "x"), ("profile.a", "1"), ("emptyValues", "remove")).Removals);
    }

    [Theory]
    [InlineData("Remove")]
    [InlineData("REMOVE")]
    [InlineData("")]
    [InlineData("delete")]
    [InlineData("remove ")]
    public void Other_emptyValues_are_refused_naming_the_accepted_values(string value)
    {
        var error = ParseError(("mbox3rdPartyId", "x"), ("profile.a", ""), ("emptyValues", value));
        Assert.Contains("'ignore'", error, StringComparison.Ordinal);
        Assert.Contains("'remove'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyValues_twice_is_refused_even_when_both_agree()
    {
        Assert.Contains("more than once", ParseError(("mbox3rdPartyId", "x"), ("profile.a", ""), ("emptyValues", "remove"), ("emptyValues", "remove")),
            StringComparison.Ordinal);
        Assert.Contains("both the query string and the body",
            ParseError(Params(("mbox3rdPartyId", "x"), ("emptyValues", "remove")), Params(("emptyValues", "remove"), ("profile.a", ""))), StringComparison.Ordinal);
    }
}
