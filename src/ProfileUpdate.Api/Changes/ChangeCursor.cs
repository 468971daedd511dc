using System.Buffers.Binary;
using System.Buffers.Text;

namespace ProfileUpdate.Api.Changes;

/// <summary>
/// A position in a client's change feed: one sequence number per change log (one on standalone Redis and the embedded
/// store, one per partition on Redis Cluster), and the identity of the logs those numbers are positions in
/// (<see cref="ChangeCursor.Identity"/>).
/// </summary>
public sealed record ChangePosition(long[] Positions, ulong Identity);

/// <summary>What a string given as a cursor turned out to be.</summary>
public enum CursorFormat
{
    /// <summary>A cursor of this feed and store.</summary>
    Valid,

    /// <summary>Not a cursor of this feed, or one of a store with another number of logs (of either format).</summary>
    Invalid,

    /// <summary>A cursor of the format before cursors named their logs' identity: it cannot be checked against the logs.</summary>
    Earlier,
}

/// <summary>
/// The feed's cursor. Opaque to clients: base64url of a version byte, the identity of the logs it was made for (8 bytes),
/// the number of positions, the smallest one and each one's distance from it (LEB128 varints), so a cluster's cursor
/// stays short (partitions fill at about the same rate: the distances are small numbers).
/// A log is lost with its store's data (a restart without persistence) and starts again at sequence number 1, so a
/// position alone could name an entry of a later incarnation of the log: each log has an identity, made when its first
/// element is pushed (feed.lua), and a cursor carries the combined identity of the logs its positions are in. A read
/// whose logs no longer have that identity answers 410 instead of reading the new log from an old position.
/// </summary>
public static class ChangeCursor
{
    private const byte Version = 3;

    /// <summary>The version of the cursors without an identity (before logs had one).</summary>
    private const byte EarlierVersion = 2;

    public static string Encode(ChangePosition position) => Encode(position.Positions, position.Identity);

    public static string Encode(ReadOnlySpan<long> positions, ulong identity = 0)
    {
        var min = long.MaxValue;
        foreach (var p in positions) min = Math.Min(min, p);
        Span<byte> buffer = stackalloc byte[1 + 8 + 10 * (positions.Length + 2)];
        var n = 0;
        buffer[n++] = Version;
        BinaryPrimitives.WriteUInt64LittleEndian(buffer[n..], identity);
        n += 8;
        WriteVarint(buffer, ref n, (ulong)positions.Length);
        WriteVarint(buffer, ref n, (ulong)min);
        foreach (var p in positions) WriteVarint(buffer, ref n, (ulong)(p - min));
        return Base64Url.EncodeToString(buffer[..n]);
    }

    /// <summary>The position a cursor stands for, when it is <see cref="CursorFormat.Valid"/>.</summary>
    public static CursorFormat TryDecode(string cursor, int logs, out ChangePosition position)
    {
        position = new ChangePosition([], 0);
        if (cursor.Length is 0 || cursor.Length > 20 + 16 * (logs + 2)) return CursorFormat.Invalid;
        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(cursor);
        }
        catch (FormatException)
        {
            return CursorFormat.Invalid;
        }
        if (bytes.Length == 0 || bytes[0] is not (Version or EarlierVersion)) return CursorFormat.Invalid;
        // Version 2 had no identity: a well-formed one of this store is an earlier cursor (410), anything else is not one.
        var n = 1;
        var identity = 0UL;
        if (bytes[0] == Version)
        {
            if (bytes.Length < 9) return CursorFormat.Invalid;
            identity = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(n));
            n += 8;
        }
        if (!TryReadVarint(bytes, ref n, out var count) || count != (ulong)logs) return CursorFormat.Invalid;
        if (!TryReadVarint(bytes, ref n, out var min) || min > long.MaxValue / 2) return CursorFormat.Invalid;
        var result = new long[logs];
        for (var i = 0; i < logs; i++)
        {
            if (!TryReadVarint(bytes, ref n, out var distance) || distance > long.MaxValue / 2) return CursorFormat.Invalid;
            result[i] = (long)min + (long)distance;
        }
        if (n != bytes.Length) return CursorFormat.Invalid;
        if (bytes[0] == EarlierVersion) return CursorFormat.Earlier;
        position = new ChangePosition(result, identity);
        return CursorFormat.Valid;
    }

    /// <summary>
    /// The identity of log <paramref name="log"/> as a cursor combines it: a 64-bit hash of its number and the identity
    /// feed.lua gave it, never 0; 0 for a log that does not exist (empty).
    /// </summary>
    public static ulong LogIdentity(int log, string? identity)
    {
        if (identity is null) return 0;
        var h = 14695981039346656037UL ^ (ulong)log; // FNV-1a over the characters, then a final mix (splitmix64)
        foreach (var c in identity) h = (h ^ c) * 1099511628211UL;
        h ^= h >> 30;
        h *= 0xbf58476d1ce4e5b9UL;
        h ^= h >> 27;
        h *= 0x94d049bb133111ebUL;
        h ^= h >> 31;
        return h == 0 ? 1 : h;
    }

    /// <summary>
    /// The identity a cursor at <paramref name="positions"/> carries: the logs' identities combined, of the logs it has
    /// read something of (position above 0). A position 0 is before every entry a log can ever have, so it is good in
    /// any log of that number: a cluster's partition log that was empty when the cursor was made, and was created since,
    /// does not make the cursor stale.
    /// </summary>
    public static ulong Identity(ReadOnlySpan<long> positions, ReadOnlySpan<ulong> logIdentities)
    {
        var identity = 0UL;
        for (var n = 0; n < positions.Length; n++)
            if (positions[n] > 0) identity ^= logIdentities[n];
        return identity;
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
