using System.Text;
using ProfileUpdate.Api.Bulk;
using ProfileUpdate.Api.Configuration;

namespace ProfileUpdate.Tests.Bulk;

/// <summary>Parses whole batch files in one call, for tests.</summary>
internal static class BatchFiles
{
    /// <summary>Every row of a whole file given as text (the service itself streams files line by line).</summary>
    public static (BatchHeader? Header, string? Error, List<BatchRow> Rows) ParseAll(string content, LimitsOptions limits)
    {
        var bytes = Encoding.UTF8.GetBytes(content);
        var rows = new List<BatchRow>();
        BatchHeader? header = null;
        long lineNumber = 0;
        foreach (var range in bytes.AsSpan().Split((byte)'\n'))
        {
            lineNumber++;
            var line = bytes.AsSpan()[range];
            if (BatchFileParser.IsBlank(line)) continue;
            if (header is null)
            {
                var parsed = BatchFileParser.ParseHeader(line, limits);
                if (!parsed.Succeeded) return (null, parsed.Error, rows);
                header = parsed.Value;
                continue;
            }
            rows.Add(BatchFileParser.ParseRow(line, lineNumber, header, limits));
        }
        return header is null ? (null, "The file is empty; it must start with 'batch=' and a header line, e.g. batch=thirdPartyId,tier.", rows) : (header, null, rows);
    }
}
