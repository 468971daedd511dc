namespace ProfileUpdate.Api.Profiles;

/// <summary>
/// What an empty attribute value means, chosen per request with <c>emptyValues=ignore|remove</c> (docs/api.md): ignored,
/// as in Adobe (the default), or "remove this attribute". One definition for single updates and batch files.
/// </summary>
public enum EmptyValues
{
    Ignore,
    Remove,
}

/// <summary>The <c>emptyValues</c> parameter: its name, its two values and the message for anything else.</summary>
public static class EmptyValuesParameter
{
    public const string Name = "emptyValues";

    /// <summary>
    /// The mode a value names, or null with the 400 message. Exact, lower case: every other value of the contract is
    /// case-sensitive, and refusing "Remove" costs a client one visible 400, where guessing would silently decide for it.
    /// </summary>
    /// <param name="batch">For a batch file, whose empty values are empty cells (a single update's are <c>profile.&lt;name&gt;=</c>).</param>
    public static EmptyValues? Parse(string value, out string? error, bool batch = false)
    {
        error = null;
        switch (value)
        {
            case "ignore": return EmptyValues.Ignore;
            case "remove": return EmptyValues.Remove;
            default:
                var (empty, removes) = batch
                    ? ("an empty cell", "an empty cell removes its column's attribute from the row's profile")
                    : ("an empty value", "profile.<name>= with an empty value removes the attribute");
                error = $"{Name} must be 'ignore' (the default: {empty} is ignored) or 'remove' ({removes}), not '{UrlEncodedParser.Sanitize(value)}'.";
                return null;
        }
    }

    public static string Repeated => $"{Name} is given more than once; send it once, as {Name}=ignore or {Name}=remove.";
}
