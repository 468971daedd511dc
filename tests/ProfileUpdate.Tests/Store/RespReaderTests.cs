using System.Text;
using ProfileUpdate.Api.Store;

namespace ProfileUpdate.Tests.Store;

/// <summary>The applier connection's reply parser: whole replies only, any split of the bytes, nothing misread.</summary>
public sealed class RespReaderTests
{
    private static bool Read(string wire, out int used, out DirectScriptConnection.Reply reply) =>
        DirectScriptConnection.RespReader.TryRead(Encoding.ASCII.GetBytes(wire), out used, out reply);

    [Theory]
    [InlineData("*4\r\n:1\r\n:-2\r\n:0\r\n:9223372036854775807\r\n", new[] { 1L, -2L, 0L, long.MaxValue })]
    [InlineData(":42\r\n", new[] { 42L })]
    [InlineData("*0\r\n", new long[0])]
    public void Reads_integer_replies(string wire, long[] expected)
    {
        Assert.True(Read(wire + ":7\r\n", out var used, out var reply));
        Assert.Equal(wire.Length, used); // and not into the next reply
        Assert.Null(reply.Error);
        Assert.Equal(expected, reply.Integers);
    }

    [Fact]
    public void Reads_an_error_with_its_text()
    {
        Assert.True(Read("-NOSCRIPT No matching script.\r\n", out var used, out var reply));
        Assert.Equal(31, used);
        Assert.Equal("NOSCRIPT No matching script.", reply.Error);
        Assert.Null(reply.Integers);
    }

    [Theory]
    [InlineData("+OK\r\n")]
    [InlineData("$5\r\nhello\r\n")]
    [InlineData("$-1\r\n")]
    [InlineData("*2\r\n:1\r\n$3\r\nabc\r\n")]
    [InlineData("*2\r\n*2\r\n:1\r\n:2\r\n+x\r\n")]
    [InlineData("*-1\r\n")]
    public void Consumes_other_shapes_whole_and_reports_no_integers(string wire)
    {
        Assert.True(Read(wire + ":7\r\n", out var used, out var reply));
        Assert.Equal(wire.Length, used);
        Assert.Null(reply.Error);
        Assert.Null(reply.Integers);
    }

    [Theory]
    [InlineData("*3\r\n:1\r\n:2\r\n:3\r\n")]
    [InlineData("*2\r\n:1\r\n$10\r\n0123456789\r\n")]
    [InlineData("-ERR something went wrong\r\n")]
    public void A_reply_cut_anywhere_is_not_read_until_it_is_whole(string wire)
    {
        for (var cut = 0; cut < wire.Length; cut++)
            Assert.False(Read(wire[..cut], out _, out _), $"read from the first {cut} bytes");
        Assert.True(Read(wire, out var used, out _));
        Assert.Equal(wire.Length, used);
    }

    [Theory]
    [InlineData(":12x\r\n")]
    [InlineData(":1\n")]
    [InlineData("?what\r\n")]
    [InlineData("*1\r\n!x\r\n")]
    public void Malformed_bytes_are_an_error_not_a_guess(string wire) =>
        Assert.Throws<InvalidDataException>(() => Read(wire, out _, out _));
}
