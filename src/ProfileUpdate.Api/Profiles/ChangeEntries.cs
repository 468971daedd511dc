using System.Buffers;
using System.Buffers.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using StackExchange.Redis;

namespace ProfileUpdate.Api.Profiles;

/// <summary>
/// A write's change-log element, built here rather than in Lua (string building in the script costs Redis more than the
/// writes, see apply.lua and feed.lua): <c>u&lt;epoch ms&gt;</c>, a flag, and the entry's JSON
/// <c>{"tntId","thirdPartyId","set","removed"}</c>. apply.lua pushes it as it is, or with a 'c' in front instead of the
/// 'u' when the write created its profile (which only the script knows).
/// </summary>
public static class ChangeEntries
{
    /// <summary>Logged whenever the write applied.</summary>
    public const byte Always = (byte)'!';

    /// <summary>Logged only when the write created its profile: it changes no attribute (a visit without parameters).</summary>
    public const byte IfCreated = (byte)'?';

    /// <summary>
    /// Logged only when the write created its profile or removed at least one attribute that was there: it removes
    /// attributes and sets none, and removing an absent attribute changes nothing (apply.lua counts what HDEL removed).
    /// </summary>
    public const byte IfRemoved = (byte)'-';

    // The log is read back by the service only; relaxed escaping keeps non-ASCII values at their UTF-8 size.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    /// <summary>
    /// Whether the write sets or removes an attribute: logged whenever it applies, except one that only removes and
    /// found none of its attributes (<see cref="IfRemoved"/>; apply.lua then answers that it logged nothing).
    /// </summary>
    public static bool ChangesAttributes(ProfileWrite write) => write.Attributes.Count > 0 || write.HasRemovals;

    private static byte Flag(ProfileWrite write) =>
        write.Attributes.Count > 0 ? Always : write.HasRemovals ? IfRemoved : IfCreated;

    /// <param name="stamp">The call's time: the same digits as apply.lua's 'now' argument, which the script relies on.</param>
    public static RedisValue Element(ProfileWrite write, in WriteStamp stamp)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(256);
        buffer.ResetWrittenCount();
        var head = buffer.GetSpan(22);
        head[0] = (byte)'u';
        if (!Utf8Formatter.TryFormat(stamp.EpochMs, head[1..], out var digits)) throw new InvalidOperationException("epoch ms does not fit");
        head[1 + digits] = Flag(write);
        buffer.Advance(2 + digits);
        var json = t_writer ??= new Utf8JsonWriter(buffer, WriterOptions);
        json.Reset(buffer);
        json.WriteStartObject();
        json.WriteString("tntId", write.TntId);
        if ((write.ThirdPartyId ?? write.NamedThirdPartyId) is { } thirdParty) json.WriteString("thirdPartyId", thirdParty);
        else json.WriteNull("thirdPartyId");
        json.WriteStartObject("set");
        foreach (var attribute in write.Attributes) json.WriteString(attribute.Name, attribute.Value);
        json.WriteEndObject();
        json.WriteStartArray("removed");
        if (write.Removals is { } removals)
            foreach (var name in removals) json.WriteStringValue(name);
        json.WriteEndArray();
        json.WriteEndObject();
        json.Flush();
        return buffer.WrittenSpan.ToArray();
    }
}
