using System.Text.RegularExpressions;
using ProfileUpdate.Api.Text;
using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Tests.Profiles;

public sealed partial class VisitorIdentityTests
{
    [GeneratedRegex("^[0-9a-f]{32}\\.0_0$", RegexOptions.CultureInvariant)]
    private static partial Regex NewTntIdWithDefaultHint();

    [Theory]
    [InlineData("ca5ddd7e33504c58b70d45d0368bcc70.21_3", "ca5ddd7e33504c58b70d45d0368bcc70")]
    [InlineData("1368007744041-575948.01_00", "1368007744041-575948")]
    [InlineData("X.28_20", "X")]
    [InlineData("X", "X")]
    [InlineData("", "")]
    public void TntBase_is_the_part_before_the_location_hint(string tnt, string expected)
    {
        Assert.Equal(expected, VisitorIds.TntBase(tnt));
    }

    [Fact]
    public void TntBase_of_the_same_profile_with_and_without_hint_is_equal()
    {
        Assert.Equal(VisitorIds.TntBase("abc"), VisitorIds.TntBase("abc.28_20"));
        Assert.NotEqual(VisitorIds.TntBase("abc"), VisitorIds.TntBase("ABC.28_20"));
    }

    [Theory]
    [InlineData("ca5ddd7e33504c58b70d45d0368bcc70.21_3")]
    [InlineData("1368007744041-575948.01_00")]
    [InlineData("a")]
    [InlineData("a.b")]
    [InlineData("A-Z_09")]
    public void ValidateTntId_accepts_valid_ids(string id)
    {
        Assert.Null(VisitorIds.ValidateTntId(id, "mboxPC"));
    }

    [Fact]
    public void ValidateTntId_accepts_128_characters_and_refuses_129()
    {
        Assert.Null(VisitorIds.ValidateTntId(new string('a', 64) + "." + new string('b', 63), "p"));
        Assert.Equal("p must be at most 128 characters.", VisitorIds.ValidateTntId(new string('a', 129), "p"));
    }

    [Theory]
    [InlineData("", "id.tntId must not be empty.")]
    [InlineData("a b", "id.tntId may contain only letters, digits, '-', '_' and one '.' before the location hint.")]
    [InlineData("a+b", "id.tntId may contain only letters, digits, '-', '_' and one '.' before the location hint.")]
    [InlineData("Köln", "id.tntId may contain only letters, digits, '-', '_' and one '.' before the location hint.")]
    [InlineData("٣", "id.tntId may contain only letters, digits, '-', '_' and one '.' before the location hint.")]
    [InlineData("a\0", "id.tntId may contain only letters, digits, '-', '_' and one '.' before the location hint.")]
    [InlineData("a..b", "id.tntId may contain at most one '.', the one before the location hint.")]
    [InlineData("a.b.c", "id.tntId may contain at most one '.', the one before the location hint.")]
    [InlineData(".", "id.tntId must have characters on both sides of its '.'.")]
    [InlineData(".a", "id.tntId must have characters on both sides of its '.'.")]
    [InlineData("a.", "id.tntId must have characters on both sides of its '.'.")]
    public void ValidateTntId_refuses_invalid_ids_naming_the_parameter(string id, string expected)
    {
        Assert.Equal(expected, VisitorIds.ValidateTntId(id, "id.tntId"));
    }

    [Theory]
    [InlineData("customer-42")]
    [InlineData("jane.doe@example.com")]
    [InlineData("with space")]
    [InlineData("Köln 東京 😀")]
    [InlineData("a=b&c%20")]
    [InlineData("...")]
    [InlineData(".a")]
    public void ValidateThirdPartyId_accepts_valid_ids(string id)
    {
        Assert.Null(VisitorIds.ValidateThirdPartyId(id, "mbox3rdPartyId"));
    }

    [Theory]
    [InlineData("", "p must not be empty.")]
    [InlineData("a+b", "p must not contain '+' or '/'.")]
    [InlineData("a/b", "p must not contain '+' or '/'.")]
    [InlineData("a\tb", "p must not contain control characters.")]
    [InlineData("a\nb", "p must not contain control characters.")]
    [InlineData("\u0000", "p must not contain control characters.")]
    [InlineData(".", "p must not be '.' or '..', which URLs treat as path steps; choose another id.")]
    [InlineData("..", "p must not be '.' or '..', which URLs treat as path steps; choose another id.")]
    public void ValidateThirdPartyId_refuses_invalid_ids(string id, string expected)
    {
        Assert.Equal(expected, VisitorIds.ValidateThirdPartyId(id, "p"));
    }

    [Fact]
    public void ValidateThirdPartyId_counts_characters_not_utf16_units()
    {
        Assert.Null(VisitorIds.ValidateThirdPartyId(new string('x', 256), "p"));
        Assert.Null(VisitorIds.ValidateThirdPartyId(string.Concat(Enumerable.Repeat("😀", 256)), "p"));
        Assert.Equal("p must be at most 256 characters.", VisitorIds.ValidateThirdPartyId(new string('x', 257), "p"));
        Assert.Equal("p must be at most 256 characters.", VisitorIds.ValidateThirdPartyId(string.Concat(Enumerable.Repeat("😀", 257)), "p"));
    }

    [Fact]
    public void Validation_errors_never_echo_the_id()
    {
        const string secret = "secret+value/x";
        var thirdParty = VisitorIds.ValidateThirdPartyId(secret, "p");
        var tnt = VisitorIds.ValidateTntId(secret, "p");
        Assert.NotNull(thirdParty);
        Assert.NotNull(tnt);
        Assert.DoesNotContain("secret", thirdParty, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", tnt, StringComparison.Ordinal);
    }

    [Fact]
    public void NewTntId_is_32_lowercase_hex_characters_a_dot_and_the_default_hint()
    {
        var id = VisitorIds.NewTntId();
        Assert.Matches(NewTntIdWithDefaultHint(), id);
        Assert.Null(VisitorIds.ValidateTntId(id, "tntId"));
        Assert.Equal(32, VisitorIds.TntBase(id).Length);
    }

    [Fact]
    public void NewTntId_uses_the_given_location_hint()
    {
        var id = VisitorIds.NewTntId("21_3");
        Assert.Matches("^[0-9a-f]{32}\\.21_3$", id);
        Assert.Null(VisitorIds.ValidateTntId(id, "tntId"));
    }

    [Fact]
    public void NewTntId_is_unique()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => VisitorIds.NewTntId()).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(1000, ids.Count);
    }

    [Fact]
    public void Identity_factories_set_the_kind()
    {
        Assert.Equal(new VisitorIdentity(IdentityKind.TntId, "a"), VisitorIdentity.Tnt("a"));
        Assert.Equal(new VisitorIdentity(IdentityKind.ThirdPartyId, "a"), VisitorIdentity.ThirdParty("a"));
        Assert.NotEqual(VisitorIdentity.Tnt("a"), VisitorIdentity.ThirdParty("a"));
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("abc", 3)]
    [InlineData("Köln", 4)]
    [InlineData("東京", 2)]
    [InlineData("😀", 1)]
    [InlineData("a😀b", 3)]
    [InlineData("😀😀😀", 3)]
    [InlineData("𝄞", 1)]
    public void CountCharacters_counts_unicode_scalar_values(string value, int expected)
    {
        Assert.Equal(expected, TextRules.CountCharacters(value));
    }

    // UTF-16 code units in hex: attribute arguments cannot carry unpaired surrogates (they are stored as UTF-8).
    [Theory]
    [InlineData("DC00", 1)]
    [InlineData("D800", 1)]
    [InlineData("DC00 D800", 2)]
    [InlineData("0061 DE00", 2)]
    [InlineData("D83D DE00 DE00", 2)]
    [InlineData("D83D D83D DE00", 2)]
    [InlineData("D83D DE00", 1)]
    public void CountCharacters_counts_an_unpaired_surrogate_as_one(string codeUnits, int expected)
    {
        var value = string.Concat(codeUnits.Split(' ').Select(u => (char)Convert.ToUInt16(u, 16)));
        // An unpaired surrogate is what a decoder would turn into one U+FFFD; it must never count as nothing,
        // or a string of them would slip under every length limit.
        Assert.Equal(expected, TextRules.CountCharacters(value));
    }

    [Fact]
    public void ThirdPartyId_of_unpaired_low_surrogates_is_held_to_the_length_limit()
    {
        Assert.Equal("p must be at most 256 characters.", VisitorIds.ValidateThirdPartyId(new string('\uDC00', 257), "p"));
    }

    [Fact]
    public void CountCharacters_counts_scalars_not_graphemes()
    {
        // A skin-toned thumbs-up is one grapheme made of two scalar values; the rule counts scalar values.
        Assert.Equal(2, TextRules.CountCharacters("👍🏽"));
        Assert.Equal("👍🏽".EnumerateRunes().Count(), TextRules.CountCharacters("👍🏽"));
    }

    [Theory]
    [InlineData("plain", false, false)]
    [InlineData("a\tb", true, false)]
    [InlineData("a\nb", true, false)]
    [InlineData("a\rb", true, false)]
    [InlineData("a\tb", false, true)]
    [InlineData("a\nb", false, true)]
    [InlineData("a\0b", true, true)]
    [InlineData("\u007f", true, true)]
    [InlineData("\u0085", true, true)]
    [InlineData("\u001b", false, true)]
    [InlineData("Köln 東京 😀", false, false)]
    public void HasControlCharacter_allows_tab_and_line_breaks_only_when_asked(string value, bool allowLineBreaks, bool expected)
    {
        Assert.Equal(expected, TextRules.HasControlCharacter(value, allowLineBreaks));
    }
}
