using System.Text;
using ProfileUpdate.Api.Profiles;
using StackExchange.Redis;

namespace ProfileUpdate.Tests.Profiles;

/// <summary>
/// The apply script's fields and stamped values written as UTF-8 slices (ArgumentBytes) must be byte for byte what the
/// strings they replace were when StackExchange.Redis encoded them, whatever the text and however the chunks run out.
/// </summary>
public sealed class ArgumentBytesTests
{
    private static readonly WriteStamp Stamp = new(1_764_900_000_123);

    [Theory]
    [InlineData("color", "c12")]
    [InlineData("", "")]
    [InlineData("名前", "ümlaut ß")]
    [InlineData("mood", "😀👍🏽")]
    [InlineData("city", "Köln, 東京")]
    public void Fields_and_values_are_the_UTF8_of_the_strings_they_replace(string name, string value)
    {
        var bytes = new ArgumentBytes(Stamp, ArgumentBytes.Length(Stamp, name, value));
        Assert.Equal(Utf8("a:" + name), Bytes(bytes.Field(name)));
        Assert.Equal(Utf8("1764900000123:" + value), Bytes(bytes.Value(value)));
    }

    [Fact]
    public void A_lone_surrogate_is_written_as_the_replacement_character_as_the_client_writes_a_string()
    {
        var text = "a\uD800b";
        var bytes = new ArgumentBytes(Stamp, 0);
        Assert.Equal(Utf8("1764900000123:" + text), Bytes(bytes.Value(text)));
        Assert.Equal([.. Utf8("1764900000123:a"), 0xEF, 0xBF, 0xBD, (byte)'b'], Bytes(bytes.Value(text)));
    }

    [Fact]
    public void Slices_already_handed_out_stay_intact_when_the_text_outgrows_the_hint()
    {
        // The hint assumes ASCII; non-ASCII and a value larger than any chunk force further chunks.
        var attributes = new List<(string Name, string Value)>();
        for (var i = 0; i < 40; i++) attributes.Add(($"n{i}", i % 3 == 0 ? $"é{i}東京" : $"v{i}"));
        attributes.Add(("big", new string('x', 10_000) + "ü"));
        var hint = attributes.Sum(a => ArgumentBytes.Length(Stamp, a.Name, a.Value));
        var bytes = new ArgumentBytes(Stamp, hint);
        var written = attributes.Select(a => (Field: bytes.Field(a.Name), Value: bytes.Value(a.Value))).ToList();
        for (var i = 0; i < attributes.Count; i++)
        {
            Assert.Equal(Utf8("a:" + attributes[i].Name), Bytes(written[i].Field));
            Assert.Equal(Utf8("1764900000123:" + attributes[i].Value), Bytes(written[i].Value));
        }
    }

    [Fact]
    public void The_length_hint_is_exact_for_ASCII()
    {
        Assert.Equal("a:color".Length + "1764900000123:c12".Length, ArgumentBytes.Length(Stamp, "color", "c12"));
        Assert.Equal("a:color".Length, ArgumentBytes.Length(Stamp, "color"));
    }

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);

    private static byte[] Bytes(RedisValue value) => ((ReadOnlyMemory<byte>)value).ToArray();
}
