using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace ProfileUpdate.Api.Changes;

/// <summary>
/// The feed's cursor: opaque to clients (base64url of a versioned position), so the log's layout can change — e.g. to
/// a vector of per-partition positions on Redis Cluster — without breaking a client that stores cursors.
/// </summary>
public static class ChangeCursor
{
    private const string Version = "1:";

    public static string Encode(long sequence) =>
        Base64Url.EncodeToString(Encoding.ASCII.GetBytes(Version + sequence.ToString(CultureInfo.InvariantCulture)));

    /// <summary>The position a cursor stands for; false when it is not a cursor of this feed.</summary>
    public static bool TryDecode(string cursor, out long sequence)
    {
        sequence = 0;
        if (cursor.Length is 0 or > 64) return false;
        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(cursor);
        }
        catch (FormatException)
        {
            return false;
        }
        var text = Encoding.ASCII.GetString(bytes);
        return text.StartsWith(Version, StringComparison.Ordinal)
            && long.TryParse(text.AsSpan(Version.Length), NumberStyles.None, CultureInfo.InvariantCulture, out sequence);
    }
}
