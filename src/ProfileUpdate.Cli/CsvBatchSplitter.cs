using System.Globalization;
using System.Text;
using nietras.SeparatedValues;

namespace ProfileUpdate.Cli;

/// <summary>One batch file written from a range of CSV rows.</summary>
/// <param name="Path">The batch file (<c>batch=</c> + header + rows).</param>
/// <param name="Bytes">Its size.</param>
/// <param name="SourceLines">For each data row of the part, in order, the CSV line it came from (header = line 1).</param>
public sealed record BatchPart(string Path, long Bytes, IReadOnlyList<int> SourceLines)
{
    /// <summary>Data rows in the part.</summary>
    public int Rows => SourceLines.Count;

    /// <summary>The CSV line of the part's batch-file line <paramref name="row"/> (the server's row number, header = 1).</summary>
    public int SourceLineOf(long row) => row >= 2 && row - 2 < SourceLines.Count ? SourceLines[(int)(row - 2)] : 0;
}

/// <summary>
/// Turns an RFC 4180 CSV (first header column an id kind) into batch files no larger than the service accepts: every
/// cell URL-encoded as UTF-8 with %XX (a space as %20, never '+', which the server would read as a space in values), one
/// row per line. Streams: only the current row and the current part's line map are in memory.
/// </summary>
/// <param name="maxRows">Most data rows per part.</param>
/// <param name="maxBytes">First part size refused (a part stays below it).</param>
/// <param name="directory">Where the parts are written.</param>
/// <param name="idOnly">
/// A bulk erase list: the header is the id column alone and every row one id; another column or a row with a second cell
/// is refused (<see cref="CsvFormatException"/>) rather than sent, so a file meant for something else deletes nothing.
/// </param>
public sealed class CsvBatchSplitter(int maxRows, long maxBytes, string directory, bool idOnly = false)
{
    private static readonly string[] IdColumns = ["pcId", "tntId", "mboxPC", "thirdPartyId", "mbox3rdPartyId", "mboxThirdPartyId"];

    /// <summary>The parts, each written completely before it is yielded; the caller deletes them when done.</summary>
    /// <exception cref="CsvFormatException">
    /// A limit below 1, a file that cannot be read or is not valid UTF-8 (or UTF-16), a header that is not usable or a row that cannot
    /// fit into any part. All but the last are found before the first part is yielded.
    /// </exception>
    public IEnumerable<BatchPart> Split(string csvPath)
    {
        // A limit below 1 fits no row: the split would yield nothing and an upload report success having sent nothing.
        if (maxRows < 1) throw new CsvFormatException($"--max-rows must be 1 or more, not {maxRows}. Nothing was sent.");
        if (maxBytes < 1) throw new CsvFormatException($"--max-bytes must be 1 or more, not {maxBytes}. Nothing was sent.");
        // Before the first part is yielded (and so sent): a file that is missing or not valid text must stop everything, not
        // fail after some parts were applied, and never reach the service with bytes replaced by U+FFFD.
        var encoding = CheckEncoding(csvPath);
        // Strict decoding as well, should the file change under us: Sep's own FromFile decodes with replacement
        // characters. The preamble of each strict encoding makes StreamReader skip its BOM (detection would switch to the
        // lenient Encoding.UTF8 or Encoding.Unicode). A UTF-16 file is decoded here, a buffer at a time, and its text
        // leaves as UTF-8 like any other (the cells are percent-encoded as UTF-8 below), so it is transcoded while it
        // streams and never held whole.
        using var text = new StreamReader(csvPath, encoding, detectEncodingFromByteOrderMarks: false, 1 << 16);
        // RFC 4180: the separator is a comma. Sep would otherwise guess it from the header, and a one-column header (a
        // bulk delete list) has none to guess from, so a stray "id,extra" row would be read as one id.
        // Sep's unescaping is lenient (a quote inside an unquoted cell, "55\" screen", or one never closed would swallow
        // every line after it into that cell), so QuoteCheck has refused every such file in the encoding pass before this
        // read: what Sep unescapes here is RFC 4180. The header is read as the first row, not as Sep's header, which
        // throws on a repeated name.
        using var reader = Sep.New(',').Reader(o => o with { Unescape = true, DisableColCountCheck = true, HasHeader = false }).From(text);
        var header = EncodeHeader(ReadHeader(reader), idOnly);
        var part = 0;
        var row = new StringBuilder();
        PendingRow? pending = null;
        while (true)
        {
            var path = System.IO.Path.Combine(directory, $"part-{++part:D4}.batch.txt");
            var lines = new List<int>();
            long bytes;
            using (var file = new StreamWriter(path, append: false, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 1 << 16))
            {
                file.Write(header);
                bytes = header.Length;
                if (pending is { } first)
                {
                    file.Write(first.Text);
                    bytes += first.Text.Length;
                    lines.Add(first.Line);
                    pending = null;
                }
                while (lines.Count < maxRows && NextRow(reader, row, idOnly, out var line))
                {
                    // The escaped text is ASCII, so its length is its size in bytes.
                    if (header.Length + row.Length >= maxBytes)
                        throw new CsvFormatException($"CSV line {line} alone makes a batch file of {header.Length + row.Length:N0} bytes; the limit is below {maxBytes:N0}.");
                    if (bytes + row.Length >= maxBytes)
                    {
                        pending = new PendingRow(row.ToString(), line);
                        break;
                    }
                    file.Write(row);
                    bytes += row.Length;
                    lines.Add(line);
                }
            }
            if (lines.Count == 0)
            {
                File.Delete(path);
                yield break;
            }
            yield return new BatchPart(path, bytes, lines);
        }
    }

    /// <summary>UTF-8 that throws on invalid bytes and whose preamble (a BOM) StreamReader skips.</summary>
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: true, throwOnInvalidBytes: true);

    /// <summary>UTF-16, little- or big-endian, with a BOM (editors' "Unicode" CSV) or without (some exporters); strict, as
    /// above. Excel's "Unicode Text" is UTF-16 too but tab-separated, which the header check refuses like any file that is
    /// not comma-separated.</summary>
    private static readonly UnicodeEncoding StrictUtf16Le = new(bigEndian: false, byteOrderMark: true, throwOnInvalidBytes: true);

    private static readonly UnicodeEncoding StrictUtf16Be = new(bigEndian: true, byteOrderMark: true, throwOnInvalidBytes: true);

    /// <summary>
    /// The file's encoding, checked whole: UTF-16 little- or big-endian when it starts with that byte order mark, or
    /// without one when its first characters are ASCII written as UTF-16 (<see cref="Utf16WithoutBom"/>); UTF-8
    /// otherwise (with or without its BOM). Throws <see cref="CsvFormatException"/> when the file cannot be opened or is
    /// not valid in its encoding, naming the line of the first invalid byte (counted as CSV lines are: the header is
    /// line 1, a line break inside quotes counts). UTF-32 (a BOM of its own) is refused with what to do, and so is a
    /// header line with a NUL byte read as UTF-8 (another encoding without a BOM).
    /// </summary>
    internal static Encoding CheckEncoding(string csvPath)
    {
        FileStream file;
        try
        {
            file = new FileStream(csvPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException)
        {
            throw new CsvFormatException($"Cannot read '{csvPath}': {ex.Message} Nothing was sent.");
        }
        using (file)
        {
            Span<byte> start = stackalloc byte[2 * Utf16AsciiUnits];
            var length = file.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
            start = start[..length];
            // UTF-32's BOMs first: little-endian UTF-32's starts with UTF-16's.
            if (start.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE, 0, 0]) || start.StartsWith((ReadOnlySpan<byte>)[0, 0, 0xFE, 0xFF]))
                throw new CsvFormatException("The file is UTF-32 (its byte order mark says so), which is not read; save it as UTF-8 (Excel: \"CSV UTF-8\") or UTF-16. Nothing was sent.");
            var bigEndian = start.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]);
            if (bigEndian || start.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]))
            {
                file.Position = 2;
                CheckUtf16(file, bigEndian);
                return bigEndian ? StrictUtf16Be : StrictUtf16Le;
            }
            if (Utf16WithoutBom(start) is { } withoutBom)
            {
                // From the first byte: there is no mark to skip (StreamReader skips the preamble only where there is one).
                file.Position = 0;
                CheckUtf16(file, withoutBom);
                return withoutBom ? StrictUtf16Be : StrictUtf16Le;
            }
            file.Position = 0;
            CheckUtf8(file);
            return StrictUtf8;
        }
    }

    /// <summary>How many code units at the file's start <see cref="Utf16WithoutBom"/> looks at (fewer in a shorter file).</summary>
    private const int Utf16AsciiUnits = 4;

    /// <summary>
    /// Big-endian (true) or little-endian (false) UTF-16 without a BOM, or null: the file's first code units (up to
    /// <see cref="Utf16AsciiUnits"/>, two at least) are each an ASCII character and a NUL, the NUL first for
    /// big-endian. A CSV this splitter accepts starts with ASCII, its header's id column (quoted or not), so UTF-16
    /// writes exactly this; and no file it accepts as UTF-8 starts so, as a NUL in the id column fails the header
    /// check. Reading such a file as UTF-16 can thus only turn a file that would be refused into the one it is: safe.
    /// </summary>
    private static bool? Utf16WithoutBom(ReadOnlySpan<byte> start)
    {
        var units = start.Length / 2;
        if (units < 2) return null;
        foreach (var bigEndian in (ReadOnlySpan<bool>)[false, true])
        {
            var all = true;
            for (var i = 0; i < units && all; i++)
            {
                var (text, nul) = bigEndian ? (start[2 * i + 1], start[2 * i]) : (start[2 * i], start[2 * i + 1]);
                all = nul == 0 && text is > 0 and < 0x80;
            }
            if (all) return bigEndian;
        }
        return null;
    }

    private static void CheckUtf8(FileStream file)
    {
        var buffer = new byte[1 << 16];
        int kept = 0, read, line = 1;
        long offset = 0;
        var quotes = new QuoteCheck();
        var bom = -1; // the length of a UTF-8 BOM, which is no character of the first cell (StreamReader skips it)
        while ((read = file.Read(buffer, kept, buffer.Length - kept)) > 0 || kept > 0)
        {
            var span = buffer.AsSpan(0, kept + read);
            var atEnd = read == 0;
            var at = 0;
            if (bom < 0) bom = span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
            while (at < span.Length)
            {
                var status = System.Text.Rune.DecodeFromUtf8(span[at..], out _, out var used);
                if (status == System.Buffers.OperationStatus.NeedMoreData && !atEnd) break;
                if (status != System.Buffers.OperationStatus.Done)
                    throw new CsvFormatException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"CSV line {line} is not valid UTF-8 (byte {offset + at + 1:N0} of the file: 0x{span[at]:X2}); save the file as UTF-8. Nothing was sent."));
                // Valid UTF-8, but no header has it: the file is in another encoding whose start had no tell (UTF-32
                // without a BOM, say). Said now, rather than a header check quoting an id column full of NULs.
                if (span[at] == 0 && line == 1)
                    throw new CsvFormatException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"CSV line 1 holds a NUL byte (byte {offset + at + 1:N0} of the file), so the file is not UTF-8 text (it may be UTF-16 or UTF-32); save it as UTF-8 (Excel: \"CSV UTF-8\"). Nothing was sent."));
                if (offset + at >= bom) quotes.Next((char)span[at], line); // a byte of a multi-byte character is none of the ASCII the check looks for
                if (span[at] == (byte)'\n') line++;
                at += used;
            }
            // A sequence cut at the buffer's end moves to its start, to be decoded with the bytes that follow.
            kept = span.Length - at;
            span[at..].CopyTo(buffer);
            offset += at;
        }
        quotes.End();
    }

    /// <summary>Checks UTF-16 code units from the file's position (after its BOM, if any): every surrogate in a pair, an even length.</summary>
    private static void CheckUtf16(FileStream file, bool bigEndian)
    {
        var buffer = new byte[1 << 16];
        int kept = 0, read, line = 1;
        long offset = file.Position;
        long highAt = -1; // where a high surrogate waits for its low half, which may be in the next buffer
        var quotes = new QuoteCheck();
        while ((read = file.Read(buffer, kept, buffer.Length - kept)) > 0)
        {
            var length = kept + read;
            var at = 0;
            for (; at + 1 < length; at += 2)
            {
                var unit = bigEndian ? (buffer[at] << 8) | buffer[at + 1] : buffer[at] | (buffer[at + 1] << 8);
                var low = unit is >= 0xDC00 and <= 0xDFFF;
                if (highAt >= 0)
                {
                    if (!low) throw Unpaired(line, highAt, "a high surrogate without its low half");
                    highAt = -1;
                }
                else if (low) throw Unpaired(line, offset + at, "a low surrogate without its high half");
                else if (unit is >= 0xD800 and <= 0xDBFF) highAt = offset + at;
                else
                {
                    quotes.Next((char)unit, line);
                    if (unit == '\n') line++;
                }
            }
            // A code unit cut at the buffer's end (an odd read) moves to its start.
            kept = length - at;
            if (kept > 0) buffer[0] = buffer[at];
            offset += at;
        }
        if (highAt >= 0) throw Unpaired(line, highAt, "a high surrogate without its low half");
        if (kept > 0)
            throw new CsvFormatException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"CSV line {line} is not valid UTF-16: the file ends in the middle of a character (it has an odd number of bytes); save the file as UTF-8. Nothing was sent."));
        quotes.End();

        static CsvFormatException Unpaired(int line, long at, string what) =>
            new(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"CSV line {line} is not valid UTF-16 (bytes {at + 1:N0}-{at + 2:N0} of the file: {what}); save the file as UTF-8. Nothing was sent."));
    }

    /// <summary>Splits a part the service still refused (413) into two halves by rows.</summary>
    public static (BatchPart First, BatchPart Second) Halve(BatchPart part)
    {
        ArgumentNullException.ThrowIfNull(part);
        var half = part.Rows / 2;
        using var source = new StreamReader(part.Path, Encoding.UTF8);
        var header = source.ReadLine() + "\n";
        BatchPart Write(string suffix, int count, int skip)
        {
            var path = part.Path + suffix;
            long bytes = header.Length;
            using var file = new StreamWriter(path, append: false, new UTF8Encoding(false), 1 << 16);
            file.Write(header);
            for (var i = 0; i < count; i++)
            {
                var line = source.ReadLine() + "\n";
                file.Write(line);
                bytes += line.Length;
            }
            return new BatchPart(path, bytes, part.SourceLines.Skip(skip).Take(count).ToList());
        }
        var first = Write(".a", half, 0);
        return (first, Write(".b", part.Rows - half, half));
    }

    /// <summary>The first row's cells, checked as every row's are; a name given twice is refused.</summary>
    private static List<string> ReadHeader(SepReader reader)
    {
        var names = new List<string>();
        if (!reader.MoveNext()) return names;
        var row = reader.Current;
        for (var i = 0; i < row.ColCount; i++)
        {
            var name = row[i].ToString();
            var first = names.IndexOf(name);
            if (first >= 0)
                throw new CsvFormatException(string.Create(CultureInfo.InvariantCulture,
                    $"The header names column '{name}' twice (columns {first + 1} and {i + 1}); give each attribute one column. Nothing was sent."));
            names.Add(name);
        }
        return names;
    }

    private static string EncodeHeader(List<string> names, bool idOnly)
    {
        if (names.Count == 0 || !IdColumns.Contains(names[0], StringComparer.OrdinalIgnoreCase))
            throw new CsvFormatException($"The first header column must be an id kind ({string.Join(", ", IdColumns)}), not '{(names.Count > 0 ? names[0] : "")}'.");
        if (idOnly && names.Count > 1)
            throw new CsvFormatException($"A bulk delete CSV has the id column alone and one id per row; remove the columns {string.Join(", ", names.Skip(1).Select(n => $"'{n}'"))}. Nothing was sent.");
        var header = new StringBuilder("batch=");
        for (var i = 0; i < names.Count; i++)
        {
            if (i > 0) header.Append(',');
            AppendEscaped(header, names[i]);
        }
        return header.Append('\n').ToString();
    }

    /// <summary>Reads the next non-blank row into <paramref name="text"/> as a batch line; false at the end.</summary>
    private static bool NextRow(SepReader reader, StringBuilder text, bool idOnly, out int line)
    {
        while (reader.MoveNext())
        {
            var row = reader.Current;
            // A blank CSV line is one empty column: nothing to send (the batch format skips blank lines too).
            if (row.ColCount == 1 && row[0].Span.IsEmpty) continue;
            if (idOnly && row.ColCount > 1)
                throw new CsvFormatException($"CSV line {row.LineNumberFrom} has {row.ColCount} cells; a bulk delete CSV has one id per row (quote an id that contains a comma). Nothing was sent.");
            text.Clear();
            for (var i = 0; i < row.ColCount; i++)
            {
                if (i > 0) text.Append(',');
                AppendEscaped(text, row[i].Span);
            }
            text.Append('\n');
            line = row.LineNumberFrom;
            return true;
        }
        line = 0;
        return false;
    }

    private static void AppendEscaped(StringBuilder target, ReadOnlySpan<char> cell)
    {
        // RFC 3986 unreserved characters stay, everything else becomes %XX of its UTF-8 bytes: at most 9 chars per char.
        Span<char> buffer = cell.Length <= 256 ? stackalloc char[cell.Length * 9] : new char[cell.Length * 9];
        if (!Uri.TryEscapeDataString(cell, buffer, out var written))
            throw new InvalidOperationException("Escaping buffer too small.");
        target.Append(buffer[..written]);
    }

    private readonly record struct PendingRow(string Text, int Line);
}

/// <summary>
/// RFC 4180's quoting, checked character by character over the whole file before any part is written (with its encoding,
/// in the same pass): a cell is unquoted and holds no quote, or starts with a quote, doubles every quote inside and ends
/// with the closing one. Sep reads leniently — a stray quote opens a quoted section, so <c>tv1,55" screen</c> would take
/// every following line into that cell and the upload would report one row applied and the others silently gone — so
/// every other shape is refused here, naming the line and column, before anything is sent.
/// </summary>
internal struct QuoteCheck
{
    private enum State { CellStart, Unquoted, Quoted, QuoteInQuoted }

    private State _state;
    private int _column;
    private int _openedOn;
    private int _openedColumn;

    public QuoteCheck() => _column = 1;

    /// <summary>Takes the next character (of CSV line <paramref name="line"/>; a line break belongs to the line it ends).</summary>
    public void Next(char c, int line)
    {
        switch (_state)
        {
            case State.Quoted:
                if (c == '"') _state = State.QuoteInQuoted;
                return;
            case State.QuoteInQuoted when c == '"':
                _state = State.Quoted; // a doubled quote: one quote in the value
                return;
            case State.QuoteInQuoted when c is not (',' or '\n' or '\r'):
                throw TextAfterQuote(line, _column);
            case State.CellStart when c == '"':
                (_state, _openedOn, _openedColumn) = (State.Quoted, line, _column);
                return;
            case State.Unquoted when c == '"':
                throw StrayQuote(line, _column);
        }
        switch (c)
        {
            case ',':
                (_state, _column) = (State.CellStart, _column + 1);
                break;
            case '\n':
                (_state, _column) = (State.CellStart, 1);
                break;
            case '\r' when _state is State.CellStart or State.QuoteInQuoted:
                _state = State.CellStart; // the CR of a CRLF (or a lone CR) ends a cell as the LF does
                break;
            default:
                _state = State.Unquoted;
                break;
        }
    }

    /// <summary>At the end of the file: a quoted cell still open is refused, naming the line it opened on.</summary>
    public readonly void End()
    {
        if (_state == State.Quoted) throw NeverClosed(_openedOn, _openedColumn);
    }

    private static CsvFormatException StrayQuote(int line, int column) => new(string.Create(CultureInfo.InvariantCulture,
        $"CSV line {line}, column {column}: a quote (\") inside a cell that does not start with one; an RFC 4180 CSV quotes the whole cell and doubles each quote inside it (\"55\"\" screen\"). Nothing was sent."));

    private static CsvFormatException NeverClosed(int line, int column) => new(string.Create(CultureInfo.InvariantCulture,
        $"CSV line {line}, column {column}: a quoted cell is never closed (no closing quote before the end of the file); close it, and double each quote inside it. Nothing was sent."));

    private static CsvFormatException TextAfterQuote(int line, int column) => new(string.Create(CultureInfo.InvariantCulture,
        $"CSV line {line}, column {column}: text after the closing quote of a quoted cell; an RFC 4180 CSV doubles each quote inside a quoted cell (\"\"). Nothing was sent."));
}

/// <summary>The CSV cannot be turned into batches (nothing was sent because of it).</summary>
public sealed class CsvFormatException(string message) : Exception(message);
