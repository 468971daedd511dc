namespace ProfileUpdate.Api.Text;

/// <summary>One decoded <c>name=value</c> pair of a query string or form body.</summary>
public readonly record struct UrlParameter(string Name, string Value)
{
    /// <summary>
    /// The value held a literal '+' before decoding (now a space). Ids cannot contain '+', and an e-mail address pasted
    /// as is (a+b@example.com) would otherwise name another visitor silently: id parameters refuse it. How the value was
    /// written, not what it is, so it takes no part in equality.
    /// </summary>
    public bool RawPlusInValue { get; init; }

    public bool Equals(UrlParameter other) =>
        string.Equals(Name, other.Name, StringComparison.Ordinal) && string.Equals(Value, other.Value, StringComparison.Ordinal);

    public override int GetHashCode() => HashCode.Combine(Name, Value);
}
