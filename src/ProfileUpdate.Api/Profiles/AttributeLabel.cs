namespace ProfileUpdate.Api.Profiles;

/// <summary>
/// How a request names an attribute in an error message: a noun ("Attribute name", "Header column 3", "profile
/// parameter"), then the name as sent, quoted, when there is one. A struct whose text is built only when a message is:
/// the rules run for every attribute of every update and batch row, and a valid one must cost no string.
/// </summary>
public readonly record struct AttributeLabel(string Noun, string? Name = null)
{
    public override string ToString()
    {
        if (Name is null) return Noun;
        var quoted = $"'{UrlEncodedParser.Sanitize(Name)}'";
        return Noun.Length == 0 ? quoted : $"{Noun} {quoted}";
    }
}
