using System.Text.RegularExpressions;

namespace ProfileUpdate.Api.Configuration;

/// <summary>The tenant's client code (Adobe's CLIENTCODE), a path segment.</summary>
public static partial class ClientCode
{
    // \z, not $: in .NET "$" also matches before a final newline, which would let "demo\n" pass as a client code.
    public const string Pattern = @"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\z";

    [GeneratedRegex(Pattern, RegexOptions.CultureInvariant)]
    private static partial Regex Regex();

    public static bool IsValid(string? value) => value is not null && Regex().IsMatch(value);
}
