using Microsoft.Extensions.Time.Testing;
using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Tests.Profiles;

public sealed class InteractiveLoadTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void Nothing_applied_reads_zero()
    {
        Assert.Equal(0, new InteractiveLoad(_time).UpdatesPerSecond);
    }

    [Fact]
    public void A_burst_is_seen_at_once_within_its_second()
    {
        var load = new InteractiveLoad(_time);
        load.Applied(40);
        load.Applied(60);
        Assert.Equal(100, load.UpdatesPerSecond);
    }

    [Fact]
    public void A_new_second_keeps_reading_the_last_full_one_until_it_counts_more()
    {
        var load = new InteractiveLoad(_time);
        load.Applied(500);
        _time.Advance(TimeSpan.FromSeconds(1));
        load.Applied(10);
        Assert.Equal(500, load.UpdatesPerSecond); // not 10: a second just begun is not an idle one
        load.Applied(600);
        Assert.Equal(610, load.UpdatesPerSecond);
    }

    [Fact]
    public void Updates_that_stopped_are_forgotten_within_two_seconds()
    {
        var load = new InteractiveLoad(_time);
        load.Applied(500);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(500, load.UpdatesPerSecond);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(0, load.UpdatesPerSecond);
    }

    [Fact]
    public void A_long_gap_does_not_carry_an_old_count()
    {
        var load = new InteractiveLoad(_time);
        load.Applied(500);
        _time.Advance(TimeSpan.FromMinutes(5));
        load.Applied(3);
        Assert.Equal(3, load.UpdatesPerSecond);
    }
}
