using ProfileUpdate.Api.Changes;

namespace ProfileUpdate.Tests.Changes;

public sealed class ChangeCursorTests
{
    [Theory]
    [InlineData(new long[] { 0 }, 0UL)]
    [InlineData(new long[] { 1 }, 1UL)]
    [InlineData(new long[] { long.MaxValue / 2 }, ulong.MaxValue)]
    [InlineData(new long[] { 5, 0, 17, 300_000, 299_990 }, 0x5be1c3a09d7f4e21UL)]
    public void A_cursor_decodes_to_the_positions_and_identity_it_was_made_of(long[] positions, ulong identity)
    {
        var cursor = ChangeCursor.Encode(positions, identity);
        Assert.Equal(CursorFormat.Valid, ChangeCursor.TryDecode(cursor, positions.Length, out var decoded));
        Assert.Equal(positions, decoded.Positions);
        Assert.Equal(identity, decoded.Identity);
        Assert.DoesNotContain(cursor, c => c is '+' or '/' or '='); // URL- and header-safe as it is
    }

    [Fact]
    public void A_cluster_cursor_of_a_busy_client_stays_short()
    {
        // 64 logs of ~15,600 entries each (1,000,000 in all), as evenly filled as hashing fills them.
        var random = new Random(7);
        var positions = Enumerable.Range(0, 64).Select(_ => 15_625L + random.Next(-400, 400)).ToArray();
        Assert.InRange(ChangeCursor.Encode(positions, ulong.MaxValue).Length, 1, 170); // 165: two bytes per log and the identity
    }

    [Theory]
    [InlineData("")]
    [InlineData("bogus")]
    [InlineData("MTo")]             // "1:", an older text format
    [InlineData("AgEF")]             // one position, but two logs expected below
    [InlineData("AgIF")]             // two logs announced, positions missing
    [InlineData("AgIFAAAA")]         // trailing bytes
    [InlineData("AwAAAAAAAAAAAQU")]  // version 3, one position, but two logs expected below
    [InlineData("AwAAAA")]           // version 3, identity cut short
    [InlineData("!!!")]
    public void Anything_else_is_not_a_cursor_of_a_two_log_feed(string cursor) =>
        Assert.Equal(CursorFormat.Invalid, ChangeCursor.TryDecode(cursor, 2, out _));

    [Fact]
    public void A_well_formed_cursor_of_the_format_without_identity_is_an_earlier_one()
    {
        Assert.Equal(CursorFormat.Earlier, ChangeCursor.TryDecode("AgEFAA", 1, out _)); // version 2: one log, position 5
        Assert.Equal(CursorFormat.Earlier, ChangeCursor.TryDecode("AgIFAAA", 2, out _));
    }

    [Fact]
    public void A_cursor_of_another_number_of_logs_is_refused()
    {
        Assert.Equal(CursorFormat.Invalid, ChangeCursor.TryDecode(ChangeCursor.Encode([1, 2, 3]), 64, out _));
        Assert.Equal(CursorFormat.Valid, ChangeCursor.TryDecode(ChangeCursor.Encode([1, 2, 3]), 3, out _));
    }

    [Fact]
    public void The_identity_combines_the_logs_read_from_and_only_those()
    {
        ulong[] logs = [ChangeCursor.LogIdentity(0, "1796532752.427723"), ChangeCursor.LogIdentity(1, "1796532752.427723"), 0];
        // A log's identity depends on its number and its own identity; a log that does not exist has none.
        Assert.NotEqual(logs[0], logs[1]);
        Assert.NotEqual(ChangeCursor.LogIdentity(0, "1796532752.427723"), ChangeCursor.LogIdentity(0, "1796532752.427724"));
        Assert.NotEqual(0UL, ChangeCursor.LogIdentity(0, ""));
        Assert.Equal(0UL, ChangeCursor.LogIdentity(0, null));
        // Position 0 is good in any incarnation of a log: it adds nothing.
        Assert.Equal(0UL, ChangeCursor.Identity([0, 0, 0], logs));
        Assert.Equal(logs[0], ChangeCursor.Identity([4, 0, 0], logs));
        Assert.Equal(logs[0] ^ logs[1], ChangeCursor.Identity([4, 9, 0], logs));
        // A log lost since (now empty) no longer gives the identity a cursor that read from it carries.
        Assert.NotEqual(ChangeCursor.Identity([4, 9, 0], logs), ChangeCursor.Identity([4, 9, 0], [logs[0], 0, 0]));
    }
}
