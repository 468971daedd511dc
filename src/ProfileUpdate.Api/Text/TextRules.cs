namespace ProfileUpdate.Api.Text;

/// <summary>Rules about text that every parser shares: how characters are counted, where text may be cut, control characters.</summary>
public static class TextRules
{
    /// <summary>
    /// Where to cut <paramref name="value"/> to at most <paramref name="max"/> UTF-16 units without splitting a surrogate
    /// pair (half an emoji would be invalid text in the JSON or XML the clipped value is echoed into).
    /// </summary>
    public static int ClipLength(string value, int max) =>
        value.Length <= max ? value.Length : char.IsHighSurrogate(value[max - 1]) && char.IsLowSurrogate(value[max]) ? max - 1 : max;

    /// <summary>Counts Unicode scalar values, so an emoji or 東 is one character, as a person would count it.</summary>
    public static int CountCharacters(string value)
    {
        var count = 0;
        for (var i = 0; i < value.Length; i++)
        {
            // Only the low half of a proper pair is not counted; an unpaired surrogate is one (invalid) character.
            if (!(char.IsLowSurrogate(value[i]) && i > 0 && char.IsHighSurrogate(value[i - 1]))) count++;
        }
        return count;
    }

    public static bool HasControlCharacter(string value, bool allowLineBreaks)
    {
        foreach (var c in value)
        {
            if (char.IsControl(c) && !(allowLineBreaks && c is '\t' or '\n' or '\r')) return true;
        }
        return false;
    }
}
