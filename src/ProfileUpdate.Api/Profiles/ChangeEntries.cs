using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using StackExchange.Redis;

namespace ProfileUpdate.Api.Profiles;

/// <summary>
/// The body of a write's change-log entry, built here rather than in Lua (string building in the script costs Redis more
/// than the writes, see apply.lua): a flag and the entry's JSON <c>{"tntId","thirdPartyId","set","removed"}</c>. apply.lua
/// adds the sequence number, the kind (created or updated, which only the script knows) and the time in front.
/// </summary>
public static class ChangeEntries
{
    /// <summary>Logged whenever the write applied.</summary>
    public const byte Always = (byte)'!';

    /// <summary>Logged only when the write created its profile: it changes no attribute (a visit without parameters).</summary>
    public const byte IfCreated = (byte)'?';

    // The log is read back by the service only; relaxed escaping keeps non-ASCII values at their UTF-8 size.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [ThreadStatic] private static ArrayBufferWriter<byte>? t_buffer;
    [ThreadStatic] private static Utf8JsonWriter? t_writer;

    /// <summary>Whether the write sets or removes an attribute (so it is logged whenever it applies).</summary>
    public static bool ChangesAttributes(ProfileWrite write) => write.Attributes.Count > 0 || write.HasRemovals;

    public static RedisValue Body(ProfileWrite write)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(256);
        buffer.ResetWrittenCount();
        buffer.GetSpan(1)[0] = ChangesAttributes(write) ? Always : IfCreated;
        buffer.Advance(1);
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
