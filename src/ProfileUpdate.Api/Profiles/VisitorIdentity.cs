namespace ProfileUpdate.Api.Profiles;

/// <summary>How a request names its visitor. Values are persisted nowhere, but are explicit so logs and metrics stay stable.</summary>
public enum IdentityKind : byte
{
    TntId = 1,
    ThirdPartyId = 2,
}

/// <summary>A visitor named by Target's tntId (mboxPC, echoed as given) or by the customer's thirdPartyId.</summary>
public readonly record struct VisitorIdentity(IdentityKind Kind, string Id)
{
    public static VisitorIdentity Tnt(string id) => new(IdentityKind.TntId, id);

    public static VisitorIdentity ThirdParty(string id) => new(IdentityKind.ThirdPartyId, id);
}

/// <summary>One attribute to set; the name has no <c>profile.</c> prefix.</summary>
public readonly record struct ProfileAttribute(string Name, string Value);

/// <summary>Rules for ids shared by every endpoint (spec, Terms).</summary>
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
        if (id.Length > MaxTntIdLength) return $"{parameter} must be at most {MaxTntIdLength} characters.";
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

    /// <summary>Returns null when valid, else a sentence saying what is wrong.</summary>
    public static string? ValidateThirdPartyId(string id, string parameter)
    {
        if (id.Length == 0) return $"{parameter} must not be empty.";
        if (TextRules.CountCharacters(id) > MaxThirdPartyIdLength) return $"{parameter} must be at most {MaxThirdPartyIdLength} characters.";
        if (id.AsSpan().IndexOfAny('+', '/') >= 0) return $"{parameter} must not contain '+' or '/'.";
        if (TextRules.HasControlCharacter(id, allowLineBreaks: false)) return $"{parameter} must not contain control characters.";
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
