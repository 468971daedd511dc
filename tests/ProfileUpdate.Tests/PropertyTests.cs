using System.Globalization;
using System.Text;
using CsCheck;
using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Text;
using ProfileUpdate.Api.Profiles;
using ProfileUpdate.Api.Updates;
using ProfileUpdate.Api.Visits;

namespace ProfileUpdate.Tests;

/// <summary>Properties that must hold for any input, checked on generated samples (CsCheck shrinks and prints a seed on failure).</summary>
public sealed class PropertyTests
{
    private const int Iterations = 20_000;

    private static readonly byte[] FormAlphabet =
        [.. "%+&=aZ09fF?/ "u8, 0x00, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xB6, 0xE6, 0x9D, 0xED, 0xA0, 0xF0, 0x9F, 0x98, 0xF4, 0xFF];

    /// <summary>Arbitrary bytes, and bytes from an alphabet rich in escapes, separators and UTF-8 lead/continuation bytes.</summary>
    private static readonly Gen<byte[]> FormBytes = Gen.OneOf<byte[]>(
        Gen.Byte.Array,
        Gen.OneOf(FormAlphabet).Array,
        // Valid escapes glued together: many of these decode to valid (or nearly valid) UTF-8.
        Gen.Select(Gen.OneOf("%", "+", "&", "=", "a"), Gen.Byte).Select(t => t.Item1 == "%" ? $"%{t.Item2:X2}" : t.Item1)
            .Array.Select(parts => Encoding.ASCII.GetBytes(string.Concat(parts))));

    /// <summary>Well-formed text (no lone surrogates): any Unicode scalar value, biased towards the interesting ones.</summary>
    private static readonly Gen<string> ScalarText = Gen.OneOf(
            Gen.Int[0, 0x10FFFF].Where(c => c is < 0xD800 or > 0xDFFF),
            Gen.OneOf<int>('%', '+', '&', '=', ' ', '/', '?', '#', 'ö', '東', 0x1F600, 0, 0xFEFF, 0xFFFD))
        .Array[0, 12]
        .Select(codes => string.Concat(codes.Select(c => char.ConvertFromUtf32(c))));

    private static List<UrlParameter> ParseOrThrow(string text)
    {
        var pairs = new List<UrlParameter>();
        var error = UrlEncodedParser.Parse(Encoding.ASCII.GetBytes(text), pairs, "body");
        if (error is not null) throw new InvalidOperationException($"Re-encoded input '{text}' was refused: {error}");
        return pairs;
    }

    private static string Encode(IEnumerable<UrlParameter> pairs, bool spaceAsPlus) =>
        string.Join("&", pairs.Select(p =>
        {
            var name = Uri.EscapeDataString(p.Name);
            var value = Uri.EscapeDataString(p.Value);
            return spaceAsPlus ? $"{name.Replace("%20", "+", StringComparison.Ordinal)}={value.Replace("%20", "+", StringComparison.Ordinal)}" : $"{name}={value}";
        }));

    [Fact]
    public void UrlEncodedParser_on_any_bytes_returns_pairs_that_round_trip_or_an_error_and_never_throws()
    {
        FormBytes.Sample(bytes =>
        {
            var pairs = new List<UrlParameter>();
            var error = UrlEncodedParser.Parse(bytes, pairs, "body");
            if (error is not null)
            {
                Assert.NotEmpty(error);
                Assert.EndsWith(".", error, StringComparison.Ordinal);
                return;
            }

            // Every decoded string is well-formed UTF-16, so it can be re-encoded and parsed to the same pairs.
            Assert.Equal(pairs, ParseOrThrow(Encode(pairs, spaceAsPlus: false)));
            Assert.Equal(pairs, ParseOrThrow(Encode(pairs, spaceAsPlus: true)));
            // Never more pairs than '&'-separated segments.
            Assert.True(pairs.Count <= bytes.Count(b => b == (byte)'&') + 1);
        }, iter: Iterations);
    }

    [Fact]
    public void UrlEncodedParser_returns_exactly_the_pairs_that_were_encoded()
    {
        Gen.Select(ScalarText, ScalarText).Array[0, 8].Sample(generated =>
        {
            var pairs = generated.Select(t => new UrlParameter(t.Item1, t.Item2)).ToList();
            // An empty name with an empty value is written as "=", which is a non-empty segment, so it survives too.
            Assert.Equal(pairs, ParseOrThrow(Encode(pairs, spaceAsPlus: false)));
            Assert.Equal(pairs, ParseOrThrow(Encode(pairs, spaceAsPlus: true)));

            // Raw (unescaped) UTF-8 is accepted as well, as long as no separator or escape character is involved.
            var raw = pairs.Where(p => !(p.Name + p.Value).AsSpan().ContainsAny("%+&=")).ToList();
            var rawBytes = Encoding.UTF8.GetBytes(string.Join("&", raw.Select(p => $"{p.Name}={p.Value}")));
            var parsed = new List<UrlParameter>();
            Assert.Null(UrlEncodedParser.Parse(rawBytes, parsed, "body"));
            Assert.Equal(raw, parsed);
        }, iter: Iterations);
    }

    [Fact]
    public void UrlEncodedParser_string_and_byte_overloads_agree()
    {
        ScalarText.Sample(text =>
        {
            var fromString = new List<UrlParameter>();
            var fromBytes = new List<UrlParameter>();
            var stringError = UrlEncodedParser.Parse(text, fromString, "query string");
            var span = text.StartsWith('?') ? text[1..] : text;
            var bytesError = UrlEncodedParser.Parse(Encoding.UTF8.GetBytes(span), fromBytes, "query string");
            Assert.Equal(bytesError, stringError);
            Assert.Equal(fromBytes, fromString);
        }, iter: Iterations);
    }

    /// <summary>
    /// Gen.Char (and so Gen.String) yields printable ASCII only; mix in the whole UTF-16 range and the characters the rules
    /// care about (lone surrogates, control characters, '+', '/', '.', non-ASCII).
    /// </summary>
    private static readonly Gen<char> AnyChar = Gen.Frequency<char>(
        (4, Gen.Char),
        (2, Gen.Char[char.MinValue, char.MaxValue]),
        (2, Gen.OneOf('\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uD83D', '\uDE00', '+', '/', '.', '%', '&', '=', '\0', '\t', '\n', '\u007F', '\u0085', 'ö', '東')));

    private static readonly Gen<string> AnyString = Gen.OneOf<string>(Gen.String, Gen.String[AnyChar, 0, 40]);

    private static readonly Gen<string> ParameterName = Gen.Frequency<string>(
        (3, Gen.OneOf(Gen.Const("mboxPC"), Gen.Const("mbox3rdPartyId"), Gen.Const("mboxMCGVID"), Gen.Const("marketingCloudVisitorId"),
            Gen.Const("profile."), Gen.Const("profile.a"), Gen.Const("other"))),
        (4, AnyString.Select(s => "profile." + s)),
        (2, AnyString));

    private static readonly Gen<string> ParameterValue = Gen.Frequency<string>(
        (3, AnyString),
        (1, Gen.OneOf(Gen.Const(""), Gen.Const("ca5ddd7e33504c58b70d45d0368bcc70.21_3"), Gen.Const("a+b"), Gen.Const("😀"))),
        (1, Gen.String[AnyChar, 100, 300]));

    private static readonly Gen<List<UrlParameter>> ParameterList =
        Gen.Select(ParameterName, ParameterValue, (n, v) => new UrlParameter(n, v)).List[0, 8];

    [Fact]
    public void UpdateRequestParser_on_any_parameters_returns_a_request_or_an_error_and_never_throws()
    {
        Gen.Select(ParameterList, ParameterList, Gen.Int[1, 300], Gen.Int[1, 300]).Sample((query, body, maxName, maxValue) =>
        {
            var limits = new LimitsOptions { MaxNameLength = maxName, MaxValueLength = maxValue };
            var result = UpdateRequestParser.Parse(query, body, limits);
            Assert.True(result.Value is null != result.Error is null, "Exactly one of Request and Error must be set.");
            if (result.Error is { } error)
            {
                Assert.EndsWith(".", error, StringComparison.Ordinal);
                return;
            }

            var request = result.Value!;
            var all = query.Concat(body).ToList();
            var id = Assert.Single(all, p => p.Name is UpdateRequestParser.TntParameter or UpdateRequestParser.ThirdPartyParameter);
            Assert.Equal(id.Name == UpdateRequestParser.TntParameter ? VisitorIdentity.Tnt(id.Value) : VisitorIdentity.ThirdParty(id.Value), request.Identity);
            Assert.DoesNotContain(all, p => p.Name is "mboxMCGVID" or "marketingCloudVisitorId");
            Assert.Contains(all, p => p.Name.StartsWith(UpdateRequestParser.ProfilePrefix, StringComparison.Ordinal));
            Assert.DoesNotContain(body, p => query.Exists(q => q.Name == p.Name));
            foreach (var attribute in request.Attributes)
            {
                Assert.NotEmpty(attribute.Name);
                Assert.NotEmpty(attribute.Value);
                Assert.InRange(TextRules.CountCharacters(attribute.Name), 1, maxName);
                Assert.InRange(TextRules.CountCharacters(attribute.Value), 1, maxValue);
                Assert.False(TextRules.HasControlCharacter(attribute.Name, allowLineBreaks: false));
                Assert.Contains(new UrlParameter(UpdateRequestParser.ProfilePrefix + attribute.Name, attribute.Value), all);
            }
            Assert.Equal(request.Attributes.Count, request.Attributes.Select(a => a.Name).Distinct(StringComparer.Ordinal).Count());
        }, iter: Iterations);
    }

    [Fact]
    public void UpdateRequestParser_accepts_every_valid_request()
    {
        var attributeName = ScalarText.Where(s => s.Length > 0 && !TextRules.HasControlCharacter(s, allowLineBreaks: false) && TextRules.CountCharacters(s) <= 128);
        var attributeValue = ScalarText.Where(s => s.Length > 0 && !TextRules.HasControlCharacter(s, allowLineBreaks: true));
        var attributes = Gen.Select(attributeName, attributeValue).Array[1, 10]
            .Select(a => a.DistinctBy(t => t.Item1, StringComparer.Ordinal).ToArray());
        var thirdParty = ScalarText.Where(s => VisitorIds.ValidateThirdPartyId(s, "p") is null);

        Gen.Select(attributes, thirdParty, Gen.Bool, Gen.Int[0, 10]).Sample((attrs, id, useTnt, split) =>
        {
            var identity = useTnt ? new UrlParameter("mboxPC", "ca5ddd7e33504c58b70d45d0368bcc70.21_3") : new UrlParameter("mbox3rdPartyId", id);
            var all = attrs.Select(a => new UrlParameter("profile." + a.Item1, a.Item2)).Prepend(identity).ToList();
            var cut = Math.Min(split, all.Count);
            var result = UpdateRequestParser.Parse(all.Take(cut).ToList(), all.Skip(cut).ToList(), new LimitsOptions());
            Assert.Null(result.Error);
            Assert.Equal(identity.Value, result.Value!.Identity.Id);
            Assert.Equal(attrs.Select(a => new ProfileAttribute(a.Item1, a.Item2)), result.Value.Attributes);
        }, iter: Iterations);
    }

    /// <summary>JSON-ish text: tokens that reach every branch of the reader, glued at random, plus arbitrary strings and escapes.</summary>
    private static readonly Gen<byte[]> JsonishBytes = Gen.OneOf<string>(
            Gen.OneOf(
                "{", "}", "[", "]", ":", ",", "\"", "\\", "\\u", "d800", "dc00", "\\ud83d\\ude00", "0", "-1.5e3", "true", "null", " ",
                "\"context\"", "\"channel\"", "\"web\"", "\"mobile\"", "\"id\"", "\"tntId\"", "\"thirdPartyId\"", "\"execute\"",
                "\"pageLoad\"", "\"profileParameters\"", "\"requestId\"", "\"profile.a\"", "\"a\"", "\"a+b\"", "\"\\u0000\"",
                "{\"context\":{\"channel\":\"web\"},"),
            AnyString.Select(JsonLiteral))
        .Array[0, 40]
        .Select(parts => Encoding.UTF8.GetBytes(string.Concat(parts)));

    private static readonly Gen<string> MaybeId = Gen.Frequency<string>((2, AnyString), (1, Gen.Const("")), (1, Gen.Const("abc.1_2")));

    /// <summary>A well-shaped request whose ids, names and values are arbitrary strings (lone surrogates, control characters…).</summary>
    private static readonly Gen<byte[]> ShapedRequests =
        Gen.Select(MaybeId, MaybeId, AnyString, AnyString, AnyString, (tnt, thirdParty, name, value, requestId) =>
            Encoding.UTF8.GetBytes(
                $"{{\"requestId\":{JsonLiteral(requestId)},\"context\":{{\"channel\":\"web\"}},\"id\":{{\"tntId\":{JsonLiteral(tnt)},\"thirdPartyId\":{JsonLiteral(thirdParty)}}}," +
                $"\"execute\":{{\"pageLoad\":{{\"profileParameters\":{{{JsonLiteral(name)}:{JsonLiteral(value)}}}}}}}}}"));

    /// <summary>Writes every char as a \uXXXX escape, so lone surrogates in the generated string become lone surrogate escapes.</summary>
    private static string JsonLiteral(string s)
    {
        var builder = new StringBuilder("\"");
        foreach (var c in s)
        {
            if (c is >= ' ' and < (char)0x7F and not '"' and not '\\') builder.Append(c);
            else builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
        }
        return builder.Append('"').ToString();
    }

    [Fact]
    public void DeliveryRequestReader_on_any_bytes_returns_a_request_or_an_error_and_never_throws()
    {
        // A shaped request with one byte overwritten: invalid UTF-8 inside strings, broken structure, …
        var corrupted = Gen.Select(ShapedRequests, Gen.Int.Positive, Gen.Byte, (json, at, value) =>
        {
            json[at % json.Length] = value;
            return json;
        });
        Gen.OneOf<byte[]>(Gen.Byte.Array, JsonishBytes, ShapedRequests, corrupted).Sample(bytes =>
        {
            var (request, error) = DeliveryRequestReader.Read(bytes, new LimitsOptions());
            Assert.True(request is null != error is null, "Exactly one of request and error must be set.");
            if (error is not null)
            {
                Assert.EndsWith(".", error, StringComparison.Ordinal);
                return;
            }

            if (request!.TntId is { } tnt) Assert.Null(VisitorIds.ValidateTntId(tnt, "t"));
            if (request.ThirdPartyId is { } thirdParty) Assert.Null(VisitorIds.ValidateThirdPartyId(thirdParty, "t"));
            Assert.InRange(request.ProfileParameters.Count, 0, DeliveryRequestReader.MaxProfileParameters);
            foreach (var p in request.ProfileParameters)
            {
                Assert.False(p.Name.StartsWith("profile.", StringComparison.Ordinal));
                Assert.InRange(TextRules.CountCharacters(p.Name), 1, 128);
                Assert.InRange(TextRules.CountCharacters(p.Value), 1, 256);
                Assert.False(TextRules.HasControlCharacter(p.Value, allowLineBreaks: true));
            }
        }, iter: Iterations, print: bytes => Convert.ToHexString(bytes) + " " + Encoding.UTF8.GetString(bytes));
    }
}
