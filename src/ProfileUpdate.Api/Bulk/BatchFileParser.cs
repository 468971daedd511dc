using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Api.Bulk;

/// <summary>
/// Parses the Bulk Profile Update file format: <c>batch=</c> then a header, then one row per line; cells split on ','
/// first and URL-decoded after, so an encoded comma (%2C) stays inside its cell and an unencoded '&amp;' or '+' has no
/// meaning at the body level (Adobe truncates on '&amp;'; this service does not).
/// </summary>
public static class BatchFileParser
{
    public const string EmptyFileError = "The file is empty; it must start with 'batch=' and a header line, e.g. batch=thirdPartyId,tier.";
    public const string EmptyEraseFileError = "The file is empty; it must start with 'batch=' and the id column (batch=thirdPartyId or batch=pcId), then one id per line.";

    /// <summary>The empty-file message of a batch kind: an erase file has no attribute columns to show.</summary>
    public static string EmptyError(bool erase) => erase ? EmptyEraseFileError : EmptyFileError;

    private static readonly byte[] Bom = [0xEF, 0xBB, 0xBF];
    private static readonly byte[] Prefix = "batch="u8.ToArray();
    // Adobe's pages spell the id columns several ways; all are accepted, in any case.
    private static readonly string[] TntIdColumns = ["pcId", "tntId", "mboxPC"];
    private static readonly string[] ThirdPartyIdColumns = ["thirdPartyId", "mbox3rdPartyId", "mboxThirdPartyId"];
    private static readonly string AllIdColumns = string.Join(", ", TntIdColumns.Skip(1).Concat(ThirdPartyIdColumns.Skip(1)));
    private static readonly string[] EcidColumns = ["marketingCloudVisitorId", "mboxMCGVID", "ecid", "mcId"];

    /// <summary>True for lines the format skips: empty, or only CRs (the same lines <see cref="BatchSpool"/> does not count).</summary>
    public static bool IsBlank(ReadOnlySpan<byte> line) => line.IndexOfAnyExcept((byte)'\r') < 0;

    /// <summary>Parses the first non-blank line; returns the header or the 400 message.</summary>
    public static Parsed<BatchHeader> ParseHeader(ReadOnlySpan<byte> line, LimitsOptions limits)
    {
        var names = new List<string>();
        if (HeaderColumns(line, names, "The file must start with 'batch=' followed by the header line, e.g. batch=thirdPartyId,favoriteColor,tier.") is { } columnsError)
            return Parsed<BatchHeader>.Fail(columnsError);
        if (IdKind(names[0], out var kind) is { } kindError) return Parsed<BatchHeader>.Fail(kindError);

        var attributes = names.Skip(1).ToList();
        if (attributes.Count == 0)
            return Parsed<BatchHeader>.Fail("The header names no attribute columns; add them after the id column, e.g. batch=thirdPartyId,tier.");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < attributes.Count; i++)
        {
            var name = attributes[i];
            var label = $"Header column {i + 2}";
            if (name.StartsWith(ProfileAttributes.Prefix, StringComparison.Ordinal))
                return Parsed<BatchHeader>.Fail(ProfileAttributes.Prefixed(new AttributeLabel(label, name)));
            if (ProfileAttributes.CheckName(name, new AttributeLabel(label), limits) is { } nameError) return Parsed<BatchHeader>.Fail(nameError);
            if (!seen.Add(name)) return Parsed<BatchHeader>.Fail(ProfileAttributes.Duplicate(new AttributeLabel(label, name)));
        }
        return Parsed<BatchHeader>.Ok(new BatchHeader(kind, attributes));
    }

    /// <summary>
    /// The URL-decoded column names of a header line (BOM and CR tolerated) after its <c>batch=</c>; returns null, or
    /// the 400 message (<paramref name="noPrefix"/> when the line does not start with <c>batch=</c>).
    /// </summary>
    private static string? HeaderColumns(ReadOnlySpan<byte> line, List<string> names, string noPrefix)
    {
        if (EncodingError(line) is { } encodingError) return encodingError;
        if (line.StartsWith(Bom)) line = line[Bom.Length..];
        line = TrimCr(line);
        if (!line.StartsWith(Prefix)) return noPrefix;
        line = line[Prefix.Length..];
        // A CR inside the line: the file ends its lines with CR alone (old Mac editors), so it reads as one long line.
        if (line.Contains((byte)'\r'))
            return "The header line holds a carriage return (CR) that does not end it: lines must end with LF or CRLF, and this file " +
                "seems to end them with CR alone. Convert its line ends, e.g. tr '\\r' '\\n' < batch.txt > batch-lf.txt.";
        var column = 0;
        foreach (var range in line.Split((byte)','))
        {
            column++;
            if (!UrlEncodedParser.TryDecode(line[range], out var name, out var error)) return $"Header column {column} {error}.";
            names.Add(name);
        }
        return null;
    }

    /// <summary>
    /// Why the header line's bytes are not the UTF-8 text a batch file is, or null: a UTF-16 or UTF-32 byte order mark,
    /// UTF-16 without one (the header's first characters are ASCII, so a NUL is every other byte), or a NUL byte
    /// anywhere in the line. Checked before the line is read as a header: such a file has its batch= (in another
    /// encoding), and being told it has none, or that a column holds a control character, names the wrong problem.
    /// The start of a line suffices for the encodings, so <see cref="BatchSpool"/> also asks it of a header too long
    /// to be read whole.
    /// </summary>
    public static string? EncodingError(ReadOnlySpan<byte> line)
    {
        // UTF-32's byte order marks first: the little-endian one starts with UTF-16's.
        if (line.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE, 0, 0])) return NotUtf8("UTF-32", "little-endian, it starts with a UTF-32 byte order mark");
        if (line.StartsWith((ReadOnlySpan<byte>)[0, 0, 0xFE, 0xFF])) return NotUtf8("UTF-32", "big-endian, it starts with a UTF-32 byte order mark");
        if (line.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE])) return NotUtf8("UTF-16", "little-endian, it starts with a UTF-16 byte order mark");
        if (line.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF])) return NotUtf8("UTF-16", "big-endian, it starts with a UTF-16 byte order mark");
        // Without a mark: "batch=" as UTF-16 is a NUL after (little-endian) or before (big-endian) each of its letters.
        if (Utf16Pattern(line, lowByteFirst: true)) return NotUtf8("UTF-16", "little-endian without a byte order mark: every other byte of its header line is a NUL", "UTF-16LE");
        if (Utf16Pattern(line, lowByteFirst: false)) return NotUtf8("UTF-16", "big-endian without a byte order mark: every other byte of its header line is a NUL", "UTF-16BE");
        var nul = line.IndexOf((byte)0);
        return nul < 0 ? null
            : $"The header line holds a NUL byte (byte {nul + 1} of the line); a batch file is UTF-8 text, which has none there. " +
              "A file saved as UTF-16 or UTF-32 (\"Unicode\") has NUL bytes: save it as UTF-8.";

        // iconv reads the byte order from the mark; without one it is named, as the order a plain "UTF-16" assumes varies.
        static string NotUtf8(string encoding, string how, string? iconvName = null) =>
            $"The file is {encoding} ({how}); a batch file must be UTF-8 (a UTF-8 byte order mark is fine). Save it as UTF-8 " +
            $"or convert it, e.g. iconv -f {iconvName ?? encoding} -t UTF-8 batch.txt > batch-utf8.txt.";
    }

    /// <summary>
    /// The line's first code units (up to six, "batch=") read as UTF-16 of ASCII characters: each a NUL and a byte that
    /// is not, in this order (big-endian) or the other (little-endian). Two at least, so one stray NUL is not enough.
    /// </summary>
    private static bool Utf16Pattern(ReadOnlySpan<byte> line, bool lowByteFirst)
    {
        var units = Math.Min(line.Length / 2, Prefix.Length);
        if (units < 2) return false;
        for (var i = 0; i < units; i++)
        {
            var (text, nul) = lowByteFirst ? (line[2 * i], line[2 * i + 1]) : (line[2 * i + 1], line[2 * i]);
            if (nul != 0 || text is 0 or >= 0x80) return false;
        }
        return true;
    }

    /// <summary>The id kind a header's first column names; returns null, or the 400 message.</summary>
    private static string? IdKind(string first, out IdentityKind kind)
    {
        kind = IdentityKind.TntId;
        if (TntIdColumns.Contains(first, StringComparer.OrdinalIgnoreCase)) return null;
        kind = IdentityKind.ThirdPartyId;
        if (ThirdPartyIdColumns.Contains(first, StringComparer.OrdinalIgnoreCase)) return null;
        if (EcidColumns.Any(e => e.Equals(first, StringComparison.OrdinalIgnoreCase)))
            return $"The id column '{UrlEncodedParser.Sanitize(first)}' (Experience Cloud ID) is not supported; the first column must be pcId or thirdPartyId (or one of their other spellings: {AllIdColumns}).";
        return $"The first header column must be pcId or thirdPartyId (or one of their other spellings: {AllIdColumns}), not '{UrlEncodedParser.Sanitize(first)}'.";
    }

    /// <summary>
    /// The header of a bulk erase file (batchDelete): <c>batch=</c> and the id column alone, one id per row. Attribute
    /// columns are refused by name: an update file sent to the erase URL by mistake must not delete its profiles.
    /// </summary>
    public static Parsed<BatchHeader> ParseEraseHeader(ReadOnlySpan<byte> line)
    {
        var names = new List<string>();
        if (HeaderColumns(line, names, "The file must start with 'batch=' followed by the id column, e.g. batch=thirdPartyId, then one id per line.") is { } columnsError)
            return Parsed<BatchHeader>.Fail(columnsError);
        if (IdKind(names[0], out var kind) is { } kindError) return Parsed<BatchHeader>.Fail(kindError);
        if (names.Count > 1 && names.Skip(1).All(n => n.Length == 0))
            return Parsed<BatchHeader>.Fail("The header has an empty column after the id column (a trailing comma?); a batchDelete header " +
                "names the id column alone: batch=thirdPartyId or batch=pcId.");
        if (names.Count > 1)
            return Parsed<BatchHeader>.Fail("A batchDelete file names only the id column (batch=thirdPartyId or batch=pcId) and one id per row; " +
                $"remove the attribute columns {string.Join(", ", names.Skip(1).Select(n => $"'{UrlEncodedParser.Sanitize(n)}'"))}.");
        return Parsed<BatchHeader>.Ok(new BatchHeader(kind, []));
    }

    /// <summary>
    /// The most bytes one character can take in a cell: four UTF-8 bytes, each percent-encoded as three. A cell longer
    /// than this many bytes per character allowed is over its limit before it is decoded, so it never is.
    /// </summary>
    public const int MaxEncodedBytesPerCharacter = 12;

    /// <summary>
    /// The longest line a row of <paramref name="header"/> can be while every cell is valid (the id and each attribute
    /// value at their longest, fully percent-encoded, with the commas and a CR), capped by <paramref name="maxRowBytes"/>
    /// (<see cref="BulkOptions.MaxRowBytes"/>) because a header of many columns implies more than is worth buffering.
    /// A longer line is a failed row and is never held whole in memory (<see cref="LineReader"/>).
    /// </summary>
    public static int MaxRowBytes(BatchHeader header, LimitsOptions limits, int maxRowBytes) =>
        (int)Math.Min(LongestValidRow(header, limits), maxRowBytes);

    /// <summary>The failed row of a line longer than <see cref="MaxRowBytes"/>; only its first bytes were read.</summary>
    /// <param name="head">The line's first bytes: its id is reported when the id cell ends within them.</param>
    public static BatchRow TooLongRow(ReadOnlySpan<byte> head, long lineNumber, BatchHeader header, LimitsOptions limits, int maxRowBytes)
    {
        var comma = head.IndexOf((byte)',');
        var id = ReportedId(comma >= 0 ? head[..comma] : head, header.IdKind);
        var why = LongestValidRow(header, limits) > maxRowBytes
            ? "the longest row this service accepts (ProfileUpdate__Bulk__MaxRowBytes)"
            : "the longest a row of this header can be with every cell within its limits";
        return Fail(lineNumber, id, $"Line {lineNumber}: row longer than {MaxRowBytes(header, limits, maxRowBytes)} bytes, {why}; it was skipped.");
    }

    /// <summary>Every cell at its longest valid length, fully percent-encoded, with the commas and the CR of a CRLF.</summary>
    private static long LongestValidRow(BatchHeader header, LimitsOptions limits) =>
        RawIdBound(header.IdKind) + header.AttributeNames.Count * (1 + (long)limits.MaxValueLength * MaxEncodedBytesPerCharacter) + 1;

    /// <summary>
    /// The id of a failed row as reported back: its decoded start, clipped, or null when empty or not decodable. Only as
    /// many raw bytes as a valid id can have are decoded, cut back whole escapes at a time when the cut split a character.
    /// </summary>
    private static string? ReportedId(ReadOnlySpan<byte> cell, IdentityKind kind)
    {
        if (cell.Length <= RawIdBound(kind))
            return UrlEncodedParser.TryDecode(cell, out var whole, out _) && whole.Length > 0 ? Clip(whole) : null;
        var prefix = cell[..RawIdBound(kind)];
        // Never end inside a %XX escape, and back off at most one UTF-8 character's worth of escapes (three bytes).
        if (prefix[^1] == (byte)'%') prefix = prefix[..^1];
        else if (prefix[^2] == (byte)'%') prefix = prefix[..^2];
        for (var attempt = 0; attempt < 4; attempt++)
        {
            if (UrlEncodedParser.TryDecode(prefix, out var decoded, out _)) return decoded.Length > 0 ? Clip(decoded) : null;
            if (prefix.Length < 3 || prefix[^3] != (byte)'%') return null;
            prefix = prefix[..^3];
        }
        return null;
    }

    /// <summary>The most raw bytes a valid id cell can have.</summary>
    private static int RawIdBound(IdentityKind kind) =>
        (kind == IdentityKind.TntId ? VisitorIds.MaxTntIdLength : VisitorIds.MaxThirdPartyIdLength) * MaxEncodedBytesPerCharacter;

    /// <summary>Parses one non-blank data line (without its LF). Never throws: a bad row comes back with its reason.</summary>
    /// <param name="emptyValues">
    /// <see cref="EmptyValues.Remove"/>: a cell that is present but empty (<c>id,,x</c>, or a trailing <c>id,x,</c>)
    /// removes its attribute. Cells omitted at the end of a short row are absent, not empty: they never remove.
    /// </param>
    public static BatchRow ParseRow(ReadOnlySpan<byte> line, long lineNumber, BatchHeader header, LimitsOptions limits,
        EmptyValues emptyValues = EmptyValues.Ignore)
    {
        line = TrimCr(line);
        var cellCount = line.Count((byte)',') + 1;
        if (cellCount > header.AttributeNames.Count + 1)
        {
            return Fail(lineNumber, ReportedId(line[..line.IndexOf((byte)',')], header.IdKind),
                $"The row has {cellCount} cells but the header has {header.AttributeNames.Count + 1}; encode commas inside values as %2C.");
        }

        string? id = null;
        var attributes = new List<ProfileAttribute>(cellCount - 1);
        List<string>? removals = null;
        var index = 0;
        var idParameter = header.IdKind == IdentityKind.TntId ? "pcId" : "thirdPartyId";
        var maxRawValue = (long)limits.MaxValueLength * MaxEncodedBytesPerCharacter;
        foreach (var range in line.Split((byte)','))
        {
            var cell = line[range];
            // Raw lengths first: a cell that cannot decode to a valid length is refused without decoding it into a string.
            if (index == 0 && cell.Length > RawIdBound(header.IdKind))
                return Fail(lineNumber, ReportedId(cell, header.IdKind), VisitorIds.TooLong(idParameter,
                    header.IdKind == IdentityKind.TntId ? VisitorIds.MaxTntIdLength : VisitorIds.MaxThirdPartyIdLength));
            if (index > 0 && cell.Length > maxRawValue)
                return Fail(lineNumber, id, ProfileAttributes.ValueTooLong(new AttributeLabel(string.Empty, header.AttributeNames[index - 1]), limits));
            if (!UrlEncodedParser.TryDecode(cell, out var value, out var error))
            {
                if (index == 0) // reported as sent: an id that cannot be decoded has no decoded form to show
                    return Fail(lineNumber, Clip(System.Text.Encoding.UTF8.GetString(cell)), $"The id {error}.");
                return Fail(lineNumber, id, $"Column '{header.AttributeNames[index - 1]}' {error}.");
            }
            if (index == 0)
            {
                // A raw '+' in an id cell is never a space: e-mail addresses pasted as is would name another visitor.
                if (cell.IndexOf((byte)'+') >= 0)
                {
                    UrlEncodedParser.TryDecodeKeepingPlus(cell, out var asSent, out _);
                    return Fail(lineNumber, Clip(asSent), VisitorIds.RawPlus(header.IdKind == IdentityKind.TntId ? "The pcId" : "The thirdPartyId"));
                }
                id = value;
                var idError = header.IdKind == IdentityKind.TntId
                    ? VisitorIds.ValidateTntId(value, idParameter)
                    : VisitorIds.ValidateThirdPartyId(value, idParameter);
                if (idError is not null) return Fail(lineNumber, value.Length == 0 ? null : Clip(value), idError);
            }
            else if (value.Length == 0)
            {
                // Ignored, as in the single update API, unless the batch asked for removals.
                if (emptyValues == EmptyValues.Remove) (removals ??= []).Add(header.AttributeNames[index - 1]);
            }
            else
            {
                var name = header.AttributeNames[index - 1];
                if (ProfileAttributes.CheckValue(value, new AttributeLabel(string.Empty, name), limits) is { } valueError) return Fail(lineNumber, id, valueError);
                attributes.Add(new ProfileAttribute(name, value));
            }
            index++;
        }
        return new BatchRow(lineNumber, id, attributes, null, removals);
    }

    private static BatchRow Fail(long line, string? id, string error) => new(line, id, null, error);

    /// <summary>Failed ids are reported back; an invalid one may be huge or binary, so it is clipped.</summary>
    private static string Clip(string id) => id.Length <= 256 ? id : id[..TextRules.ClipLength(id, 256)];

    private static ReadOnlySpan<byte> TrimCr(ReadOnlySpan<byte> line) =>
        !line.IsEmpty && line[^1] == (byte)'\r' ? line[..^1] : line;
}
