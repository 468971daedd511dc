using System.Buffers;
using System.Text;

namespace ProfileUpdate.Api.Text;

/// <summary>
/// Strict <c>application/x-www-form-urlencoded</c> decoding. ASP.NET Core's own query and form readers keep a malformed
/// <c>%</c> escape as literal text and turn invalid UTF-8 into U+FFFD; the contract wants such input refused, never stored
/// mangled, so this parser reports it instead.
/// </summary>
public static class UrlEncodedParser
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Appends every pair of <paramref name="input"/> to <paramref name="output"/>; returns an error sentence or null.</summary>
    /// <param name="input">The raw text, without a leading '?'.</param>
    /// <param name="source">"query string" or "body", for the error message.</param>
    public static string? Parse(ReadOnlySpan<byte> input, List<UrlParameter> output, string source)
    {
        output.EnsureCapacity(output.Count + input.Count((byte)'&') + 1); // one array per request, not one per doubling
        var index = 0;
        while (!input.IsEmpty)
        {
            var amp = input.IndexOf((byte)'&');
            var pair = amp < 0 ? input : input[..amp];
            input = amp < 0 ? [] : input[(amp + 1)..];
            if (pair.IsEmpty) continue;
            index++;

            var eq = pair.IndexOf((byte)'=');
            var rawName = eq < 0 ? pair : pair[..eq];
            var rawValue = eq < 0 ? [] : pair[(eq + 1)..];
            if (!TryDecode(rawName, out var name, out var nameError))
                return $"Parameter #{index} of the {source} has a name that {nameError}.";
            if (!TryDecode(rawValue, out var value, out var valueError))
                return $"The value of parameter '{Sanitize(name)}' in the {source} {valueError}.";
            output.Add(new UrlParameter(name, value) { RawPlusInValue = rawValue.IndexOf((byte)'+') >= 0 });
        }
        return null;
    }

    public static string? Parse(string input, List<UrlParameter> output, string source)
    {
        if (input.Length == 0) return null;
        var span = input.AsSpan();
        if (span[0] == '?') span = span[1..];
        // Kestrel hands the query over still escaped, so it is ASCII unless a client sent raw non-ASCII bytes; UTF-8 keeps those.
        var max = Encoding.UTF8.GetMaxByteCount(span.Length);
        var rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            var length = Encoding.UTF8.GetBytes(span, rented);
            return Parse(rented.AsSpan(0, length), output, source);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Decodes one URL-encoded component ('+' → space, %XX, strict UTF-8); on failure <paramref name="error"/> says why.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> raw, out string decoded, out string? error) =>
        TryDecode(raw, plusIsSpace: true, out decoded, out error);

    /// <summary>Decodes like <see cref="TryDecode(ReadOnlySpan{byte}, out string, out string?)"/>, but '+' stays a '+' (to show text as sent).</summary>
    public static bool TryDecodeKeepingPlus(ReadOnlySpan<byte> raw, out string decoded, out string? error) =>
        TryDecode(raw, plusIsSpace: false, out decoded, out error);

    /// <summary>Decodes one path segment: like <see cref="TryDecode(ReadOnlySpan{byte}, out string, out string?)"/>, but '+' is a plain '+'.</summary>
    public static bool TryDecodePathSegment(string raw, out string decoded, out string? error) =>
        TryDecode(Encoding.UTF8.GetBytes(raw), plusIsSpace: false, out decoded, out error);

    private static bool TryDecode(ReadOnlySpan<byte> raw, bool plusIsSpace, out string decoded, out string? error)
    {
        error = null;
        if (raw.IsEmpty) { decoded = string.Empty; return true; }
        if (raw.IndexOfAny((byte)'%', plusIsSpace ? (byte)'+' : (byte)'%') < 0 && Ascii.IsValid(raw))
        {
            decoded = Encoding.ASCII.GetString(raw);
            return true;
        }

        var rented = raw.Length <= 512 ? null : ArrayPool<byte>.Shared.Rent(raw.Length);
        var buffer = rented ?? stackalloc byte[512];
        try
        {
            var length = 0;
            for (var i = 0; i < raw.Length; i++)
            {
                var b = raw[i];
                if (b == (byte)'+' && plusIsSpace) { buffer[length++] = (byte)' '; continue; }
                if (b != (byte)'%') { buffer[length++] = b; continue; }
                if (i + 2 >= raw.Length || !IsHex(raw[i + 1]) || !IsHex(raw[i + 2]))
                {
                    decoded = string.Empty;
                    error = "has a malformed percent-escape (a '%' must be followed by two hexadecimal digits; send a literal '%' as %25)";
                    return false;
                }
                buffer[length++] = (byte)((HexValue(raw[i + 1]) << 4) | HexValue(raw[i + 2]));
                i += 2;
            }
            try
            {
                decoded = StrictUtf8.GetString(buffer[..length]);
                return true;
            }
            catch (DecoderFallbackException)
            {
                decoded = string.Empty;
                error = "is not valid UTF-8 once decoded (percent-encode the UTF-8 bytes of the text)";
                return false;
            }
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>A parameter name is echoed in errors so the caller can find it; keep it short and printable.</summary>
    public static string Sanitize(string name)
    {
        var clipped = name.Length > 64 ? name[..TextRules.ClipLength(name, 64)] + "…" : name;
        return string.Create(clipped.Length, clipped, static (span, s) =>
        {
            for (var i = 0; i < s.Length; i++) span[i] = char.IsControl(s[i]) ? '?' : s[i];
        });
    }

    private static bool IsHex(byte b) => char.IsAsciiHexDigit((char)b);

    private static int HexValue(byte b) => b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10;
}
