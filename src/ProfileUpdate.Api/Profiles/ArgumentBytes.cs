using System.Text;
using ProfileUpdate.Api.Store;
using StackExchange.Redis;

namespace ProfileUpdate.Api.Profiles;

/// <summary>
/// The computed arguments of one apply.lua call — each attribute's field (<c>a:&lt;name&gt;</c>) and stamped value
/// (<c>&lt;ms&gt;:&lt;value&gt;</c>) — as UTF-8 written once into shared chunks, handed to StackExchange.Redis as byte
/// slices. As strings, every argument was a UTF-16 copy made for the call and then measured and encoded again by the
/// client when it wrote the command: per two-attribute update four strings and two passes over their text, where this
/// is one pass and a chunk per call (StoreBenchmarks.ApplierBatchOneCall and the store-load sender: docs/performance.md).
/// One instance per call, used from one thread; the chunks live as long as the call's argument array.
/// </summary>
public sealed class ArgumentBytes
{
    // A further chunk, when the first (sized by the caller for ASCII text) runs out: non-ASCII text takes more bytes.
    private const int MinChunk = 256;
    private static readonly byte[] AttributePrefix = Encoding.UTF8.GetBytes(RedisKeys.AttributePrefix);

    private readonly byte[] _valuePrefix;
    private byte[] _chunk;
    private int _used;

    /// <param name="stamp">The call's time: the prefix of every attribute value.</param>
    /// <param name="sizeHint">The bytes the call's arguments take if all their text is ASCII (<see cref="Length"/>).</param>
    public ArgumentBytes(in WriteStamp stamp, int sizeHint)
    {
        _valuePrefix = Encoding.UTF8.GetBytes(stamp.ValuePrefix);
        _chunk = new byte[sizeHint];
    }

    /// <summary>The bytes <see cref="Field"/> (<paramref name="value"/> null) or a field and its value take for ASCII text.</summary>
    public static int Length(in WriteStamp stamp, string name, string? value = null) =>
        RedisKeys.AttributePrefix.Length + name.Length + (value is null ? 0 : stamp.ValuePrefix.Length + value.Length);

    /// <summary>The field of attribute <paramref name="name"/>: <c>a:&lt;name&gt;</c>.</summary>
    public RedisValue Field(string name) => Concat(AttributePrefix, name);

    /// <summary>An attribute value as stored: the call's <c>&lt;ms&gt;:</c> followed by the value.</summary>
    public RedisValue Value(string value) => Concat(_valuePrefix, value);

    private RedisValue Concat(byte[] prefix, string text)
    {
        var free = _chunk.Length - _used;
        // The bound costs nothing; the exact length (a vectorised pass over the text) only when the bound does not fit,
        // i.e. toward the end of a chunk that was sized exactly for ASCII.
        if (free < prefix.Length + Encoding.UTF8.GetMaxByteCount(text.Length))
        {
            var exact = prefix.Length + Encoding.UTF8.GetByteCount(text);
            if (free < exact)
            {
                _chunk = new byte[Math.Max(MinChunk, exact)];
                _used = 0;
            }
        }
        var span = _chunk.AsSpan(_used);
        prefix.CopyTo(span);
        // Lone surrogates become U+FFFD, as the client's own encoding of a string does.
        var length = prefix.Length + Encoding.UTF8.GetBytes(text, span[prefix.Length..]);
        var slice = new ReadOnlyMemory<byte>(_chunk, _used, length);
        _used += length;
        return slice;
    }
}
