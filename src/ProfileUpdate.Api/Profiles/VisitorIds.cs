namespace ProfileUpdate.Api.Profiles;

/// <summary>Rules for visitor ids shared by every endpoint (docs/api.md, "Terms").</summary>
public static class VisitorIds
{
    public const int MaxTntIdLength = 128;
    public const int MaxThirdPartyIdLength = 256;

    /// <summary>The part of a tntId before its optional location hint: <c>X</c> and <c>X.28_20</c> are one profile.</summary>
    public static string TntBase(string tntId)
    {
        var dot = tntId.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? tntId : tntId[..dot];
    }

    /// <summary>Returns null when valid, else a sentence saying what is wrong (never echoing the id: it is personal data).</summary>
    public static string? ValidateTntId(string id, string parameter)
    {
        if (id.Length == 0) return $"{parameter} must not be empty.";
        if (id.Length > MaxTntIdLength) return TooLong(parameter, MaxTntIdLength);
        var dots = 0;
        foreach (var c in id)
        {
            if (c == '.') { dots++; continue; }
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
                return $"{parameter} may contain only letters, digits, '-', '_' and one '.' before the location hint.";
        }
        if (dots > 1) return $"{parameter} may contain at most one '.', the one before the location hint.";
        if (id[0] == '.' || id[^1] == '.') return $"{parameter} must have characters on both sides of its '.'.";
        return null;
    }

    /// <summary>Why an id longer than <paramref name="max"/> characters is refused.</summary>
    public static string TooLong(string parameter, int max) => $"{parameter} must be at most {max} characters.";

    /// <summary>
    /// Why an id sent with a literal '+' is refused: form decoding turns it into a space, so an e-mail address pasted as
    /// is would silently name a different visitor; and no id may contain '+'.
    /// </summary>
    public static string RawPlus(string parameter) =>
        $"{parameter} contains a raw '+', which URL decoding turns into a space, so a+b@example.com would silently name the " +
        "visitor 'a b@example.com'. Ids cannot contain '+': send the id without it.";

    /// <summary>Returns null when valid, else a sentence saying what is wrong.</summary>
    public static string? ValidateThirdPartyId(string id, string parameter)
    {
        if (id.Length == 0) return $"{parameter} must not be empty.";
        if (TextRules.CountCharacters(id) > MaxThirdPartyIdLength) return TooLong(parameter, MaxThirdPartyIdLength);
        if (id.AsSpan().IndexOfAny('+', '/') >= 0) return $"{parameter} must not contain '+' or '/'.";
        if (TextRules.HasControlCharacter(id, allowLineBreaks: false)) return $"{parameter} must not contain control characters.";
        // The read and delete endpoints take the id as a path segment, and every HTTP stack (Kestrel included, even for
        // %2E) resolves '.' and '..' as dot segments: a profile linked to either could never be read or deleted by it.
        if (id is "." or "..") return $"{parameter} must not be '.' or '..', which URLs treat as path steps; choose another id.";
        return null;
    }

    /// <summary>A new tntId for a visitor seen for the first time: 32 lowercase hex characters (128 random bits) and a location hint.</summary>
    public static string NewTntId(string locationHint = "0_0")
    {
        // Guid.NewGuid asks the kernel for 16 random bytes on every call (a getrandom syscall each): a bulk v2 file creates
        // up to 500,000 ids, so random bytes are drawn 4 KB at a time per thread, from the same cryptographic source.
        if (_randomPool is not { } pool || _randomUsed + 16 > pool.Length)
        {
            pool = _randomPool ??= new byte[4096];
            System.Security.Cryptography.RandomNumberGenerator.Fill(pool);
            _randomUsed = 0;
        }
        var offset = _randomUsed;
        _randomUsed += 16;
        var id = string.Create(33 + locationHint.Length, (Pool: pool, Offset: offset, Hint: locationHint), static (chars, state) =>
        {
            Convert.TryToHexStringLower(state.Pool.AsSpan(state.Offset, 16), chars, out _);
            chars[32] = '.';
            state.Hint.AsSpan().CopyTo(chars[33..]);
        });
        pool.AsSpan(offset, 16).Clear(); // a drawn id's bytes are not left behind for anything else to read
        return id;
    }

    [ThreadStatic] private static byte[]? _randomPool;
    [ThreadStatic] private static int _randomUsed;
}
