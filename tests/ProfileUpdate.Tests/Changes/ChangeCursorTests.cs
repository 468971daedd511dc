using ProfileUpdate.Api.Changes;

namespace ProfileUpdate.Tests.Changes;

public sealed class ChangeCursorTests
{
    [Theory]
    [InlineData(new long[] { 0 })]
    [InlineData(new long[] { 1 })]
    [InlineData(new long[] { long.MaxValue / 2 })]
    [InlineData(new long[] { 5, 0, 17, 300_000, 299_990 })]
    public void A_cursor_decodes_to_the_positions_it_was_made_of(long[] positions)
    {
        var cursor = ChangeCursor.Encode(positions);
        Assert.True(ChangeCursor.TryDecode(cursor, positions.Length, out var decoded));
        Assert.Equal(positions, decoded);
        Assert.DoesNotContain(cursor, c => c is '+' or '/' or '='); // URL- and header-safe as it is
    }

    [Fact]
    public void A_cluster_cursor_of_a_busy_client_stays_short()
    {
        // 64 logs of ~15,600 entries each (1,000,000 in all), as evenly filled as hashing fills them.
        var random = new Random(7);
        var positions = Enumerable.Range(0, 64).Select(_ => 15_625L + random.Next(-400, 400)).ToArray();
        Assert.InRange(ChangeCursor.Encode(positions).Length, 1, 160); // 154: two bytes per log
    }

    [Theory]
    [InlineData("")]
    [InlineData("bogus")]
    [InlineData("MTo")]             // "1:", an older text format
    [InlineData("AgEF")]             // one position, but two logs expected below
    [InlineData("AgIF")]             // two logs announced, positions missing
    [InlineData("AgIFAAAA")]         // trailing bytes
    [InlineData("!!!")]
    public void Anything_else_is_not_a_cursor_of_a_two_log_feed(string cursor) =>
        Assert.False(ChangeCursor.TryDecode(cursor, 2, out _));

    [Fact]
    public void A_cursor_of_another_number_of_logs_is_refused()
    {
        Assert.False(ChangeCursor.TryDecode(ChangeCursor.Encode([1, 2, 3]), 64, out _));
        Assert.True(ChangeCursor.TryDecode(ChangeCursor.Encode([1, 2, 3]), 3, out _));
    }
}
