using System.Buffers.Text;

namespace ProfileUpdate.Api.Changes;

/// <summary>
/// The feed's cursor: one position (sequence number) per change log of the client — one on standalone Redis and the
/// embedded store, one per partition on Redis Cluster. Opaque to clients: base64url of a version byte, the number of
/// positions, the smallest one and each one's distance from it (LEB128 varints), so a cluster's cursor stays short
/// (partitions fill at about the same rate: the distances are small numbers).
/// </summary>
public static class ChangeCursor
{
    private const byte Version = 2;

    public static string Encode(ReadOnlySpan<long> positions)
    {
        var min = long.MaxValue;
        foreach (var p in positions) min = Math.Min(min, p);
        Span<byte> buffer = stackalloc byte[1 + 10 * (positions.Length + 2)];
        var n = 0;
        buffer[n++] = Version;
        WriteVarint(buffer, ref n, (ulong)positions.Length);
        WriteVarint(buffer, ref n, (ulong)min);
        foreach (var p in positions) WriteVarint(buffer, ref n, (ulong)(p - min));
        return Base64Url.EncodeToString(buffer[..n]);
    }

    /// <summary>The positions a cursor stands for; false when it is not a cursor of this feed (or of a store with another number of logs).</summary>
    public static bool TryDecode(string cursor, int logs, out long[] positions)
    {
        positions = [];
        if (cursor.Length is 0 || cursor.Length > 8 + 16 * (logs + 2)) return false;
        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(cursor);
        }
        catch (FormatException)
        {
            return false;
        }
        var n = 0;
        if (bytes.Length == 0 || bytes[n++] != Version) return false;
        if (!TryReadVarint(bytes, ref n, out var count) || count != (ulong)logs) return false;
        if (!TryReadVarint(bytes, ref n, out var min) || min > long.MaxValue / 2) return false;
        var result = new long[logs];
        for (var i = 0; i < logs; i++)
        {
            if (!TryReadVarint(bytes, ref n, out var distance) || distance > long.MaxValue / 2) return false;
            result[i] = (long)min + (long)distance;
        }
        if (n != bytes.Length) return false;
        positions = result;
        return true;
    }

    private static void WriteVarint(Span<byte> buffer, ref int n, ulong value)
    {
        while (value >= 0x80)
        {
            buffer[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        buffer[n++] = (byte)value;
    }

    private static bool TryReadVarint(byte[] bytes, ref int n, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (n >= bytes.Length) return false;
            var b = bytes[n++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return true;
        }
        return false;
    }
}
