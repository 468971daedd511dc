using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Quota;
using ProfileUpdate.Api.Updates;

namespace ProfileUpdate.Tests.Updates;

/// <summary>
/// What a refused update reports from the latest decision this instance saw, without the store (the repository here
/// has no store at all: a look at it would fail the test). Looks at the store: RefusedUpdateQuotaTests, on real Redis.
/// </summary>
public sealed class LatestQuotaTests
{
    private const long Limit = 1_000;
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));
    private readonly LatestQuota _latest;

    public LatestQuotaTests() =>
        _latest = new LatestQuota(new QuotaRepository(null!, null!, _time), _time, Options.Create(new ProfileUpdateOptions()));

    private static QuotaDecision Decision(long remaining, long reset) => new(1, remaining, reset, 0);

    [Fact]
    public async Task A_recent_decision_is_reported_with_its_reset_counted_down_by_whole_seconds()
    {
        _latest.Record("demo", Decision(990, 3_600), _latest.Timestamp);
        Assert.Equal(new QuotaState(Limit, 990, 3_600), await _latest.ForRefusalAsync("demo", Limit));
        _time.Advance(TimeSpan.FromSeconds(2.5));
        Assert.Equal(new QuotaState(Limit, 990, 3_598), await _latest.ForRefusalAsync("demo", Limit));
        _time.Advance(TimeSpan.FromSeconds(2.5)); // 5 s: the default age limit, still recent
        Assert.Equal(new QuotaState(Limit, 990, 3_595), await _latest.ForRefusalAsync("demo", Limit));
    }

    [Fact]
    public async Task Of_decisions_recorded_out_of_order_the_one_sent_last_counts()
    {
        // Two batches in flight at once: the later call's answer is recorded first, the earlier one's after it.
        var first = _latest.Timestamp;
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var second = _latest.Timestamp;
        _latest.Record("demo", Decision(980, 3_600), second);
        _latest.Record("demo", Decision(990, 3_600), first);
        Assert.Equal(980, (await _latest.ForRefusalAsync("demo", Limit))!.Value.Remaining);
        Assert.Equal([("demo", 980L)], _latest.Remaining());
    }

    [Fact]
    public async Task A_reset_beyond_the_window_counts_down_as_the_store_would_report_it()
    {
        // A unit used this minute frees up to a minute more than the window away; the store says so exactly, no cap.
        _latest.Record("demo", Decision(999, QuotaRepository.WindowSeconds + 40), _latest.Timestamp);
        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(new QuotaState(Limit, 999, QuotaRepository.WindowSeconds + 36), await _latest.ForRefusalAsync("demo", Limit));
    }

    [Fact]
    public async Task No_unit_used_reports_the_whole_limit_and_no_reset()
    {
        _latest.Record("demo", Decision(Limit, 0), _latest.Timestamp);
        _time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(new QuotaState(Limit, Limit, 0), await _latest.ForRefusalAsync("demo", Limit));
    }

    [Fact]
    public async Task A_negative_remaining_is_reported_as_zero()
    {
        // A lowered limit leaves more used than allowed: the store says so with a negative count.
        _latest.Record("demo", Decision(-5, 60), _latest.Timestamp);
        Assert.Equal(new QuotaState(Limit, 0, 60), await _latest.ForRefusalAsync("demo", Limit));
    }
}
