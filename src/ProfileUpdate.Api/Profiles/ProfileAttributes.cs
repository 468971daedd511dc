namespace ProfileUpdate.Api.Profiles;

/// <summary>
/// The one set of rules for profile attribute names and values, with their messages, used by every way attributes come
/// in: single updates, batch files and visits. Limits come from configuration (<see cref="LimitsOptions"/>); lengths
/// count Unicode characters as a person would (an emoji or 東 is one). The caller only says how the thing is called in
/// its own request (<see cref="AttributeLabel"/>: "Attribute name 'tier'", "Header column 3", "'profile.tier'"), so a
/// message points at the right spot.
/// </summary>
public static class ProfileAttributes
{
    /// <summary>The prefix single updates put before an attribute name; batch headers and visits must not use it.</summary>
    public const string Prefix = "profile.";

    /// <summary>Null when <paramref name="name"/> may be an attribute name, else why not.</summary>
    /// <param name="label">How the request names it, e.g. <c>Attribute name 'tier'</c> or <c>Header column 3</c>.</param>
    public static string? CheckName(string name, AttributeLabel label, LimitsOptions limits)
    {
        if (name.Length == 0) return $"{label} is empty; an attribute needs a name of 1-{limits.MaxNameLength} characters.";
        if (TextRules.CountCharacters(name) > limits.MaxNameLength) return $"{label} is longer than {limits.MaxNameLength} characters.";
        if (TextRules.HasControlCharacter(name, allowLineBreaks: false)) return $"{label} contains a control character.";
        return null;
    }

    /// <summary>Null when <paramref name="value"/> may be stored, else why not. Tab and line breaks are text; other control characters are not.</summary>
    /// <param name="label">How the request names the attribute, e.g. <c>'profile.tier'</c> or <c>'tier'</c>.</param>
    public static string? CheckValue(string value, AttributeLabel label, LimitsOptions limits)
    {
        if (TextRules.CountCharacters(value) > limits.MaxValueLength) return ValueTooLong(label, limits);
        if (TextRules.HasControlCharacter(value, allowLineBreaks: true))
            return $"The value of {label} contains a control character other than tab or line break.";
        return null;
    }

    /// <summary>Why a value longer than <see cref="LimitsOptions.MaxValueLength"/> characters is refused.</summary>
    public static string ValueTooLong(AttributeLabel label, LimitsOptions limits) =>
        $"The value of {label} is longer than {limits.MaxValueLength} characters.";

    /// <summary>The same attribute twice in one request or header.</summary>
    public static string Duplicate(AttributeLabel label) => $"{label} appears more than once; give each attribute once.";

    /// <summary>A name written with the single-update prefix where a bare name is expected.</summary>
    public static string Prefixed(AttributeLabel label) => $"{label} must be the bare attribute name, without the '{Prefix}' prefix.";
}
