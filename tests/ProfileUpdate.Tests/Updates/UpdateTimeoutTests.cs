using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using ProfileUpdate.Api.Clients;
using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Quota;
using ProfileUpdate.Api.Updates;

namespace ProfileUpdate.Tests.Updates;

/// <summary>
/// The update endpoint's wait for its outcome (Applier:RequestTimeout) against an applier the test plays itself: it
/// takes the command from the queue and completes it when the test says, and the endpoint's clock is a FakeTimeProvider,
/// so the timeout fires exactly when the test moves the clock. Each request is counted once in the outcome counter.
/// </summary>
public sealed class UpdateTimeoutTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);
    private static readonly UpdateOutcome Applied = new(UpdateStatus.Applied, Quota: new QuotaState(1_000, 990, 3_600));

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 4, 12, 0, 0, TimeSpan.Zero));
    private readonly ServiceProvider _meters = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly MeterListener _listener = new();
    private readonly Dictionary<(string Instrument, string Outcome), long> _counted = [];
    private readonly UpdateQueue _queue;
    private readonly UpdateMetrics _metrics;
    private readonly UpdateEndpoints.UpdateServices _services;

    public UpdateTimeoutTests()
    {
        var options = Options.Create(new ProfileUpdateOptions { Applier = { RequestTimeout = Timeout } });
        var meterFactory = _meters.GetRequiredService<IMeterFactory>();
        _queue = new UpdateQueue(options);
        // The quota repository is only asked for refused requests, which these tests do not send.
        var latest = new LatestQuota(new QuotaRepository(null!, null!, _time), _time, options);
        _metrics = new UpdateMetrics(meterFactory, _queue, latest);
        _services = new UpdateEndpoints.UpdateServices(_queue, new QuotaLimits(options), _metrics, latest, _time, options);

        // This test's meter only (other tests' meters share the name).
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, meterFactory)) listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var outcome = string.Empty;
            foreach (var tag in tags)
                if (tag.Key == "outcome") outcome = (string)tag.Value!;
            lock (_counted) _counted[(instrument.Name, outcome)] = _counted.GetValueOrDefault((instrument.Name, outcome)) + value;
        });
        _listener.Start();
    }

    public void Dispose()
    {
        _listener.Dispose();
        _meters.Dispose();
    }

    [Fact]
    public async Task Completed_at_the_deadline_the_applier_outcome_is_the_answer_not_a_503()
    {
        // The timer fires and fails the wait, but the endpoint's continuation is held (as a busy thread pool would hold
        // it); the applier completes the command in between. The outcome is known by the time the endpoint looks.
        var held = new HeldContinuations();
        var answer = held.Run(() => UpdateEndpoints.UpdateAsync(new ResolvedClient("demo"), NewRequest(), _services));
        Assert.True(_queue.Reader.TryRead(out var command));

        _time.Advance(Timeout);
        Assert.True(held.Pending > 0, "the timeout should have fired and queued the endpoint's continuation");
        command.Complete(Applied);
        held.RunAll();

        var result = await answer;
        Assert.IsType<UpdateAccepted>(result.Result);
        _metrics.Updates([command]);
        Assert.Equal(new Dictionary<(string, string), long> { [("profileupdate.updates", "applied")] = 1 }, Counted());
    }

    [Fact]
    public async Task Timed_out_the_request_is_counted_once_as_timeout_and_the_late_outcome_apart()
    {
        var context = NewRequest();
        var answer = UpdateEndpoints.UpdateAsync(new ResolvedClient("demo"), context, _services);
        Assert.True(_queue.Reader.TryRead(out var command));

        _time.Advance(Timeout - TimeSpan.FromMilliseconds(1));
        Assert.False(answer.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));
        var problem = Assert.IsType<ProblemHttpResult>((await answer).Result);
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, problem.StatusCode);
        Assert.Contains("in time", problem.ProblemDetails.Detail, StringComparison.Ordinal);

        // The applier stores it afterwards (it stays queued: writes are idempotent) and counts its batch.
        command.Complete(Applied);
        _metrics.Updates([command]);
        Assert.Equal(new Dictionary<(string, string), long>
        {
            [("profileupdate.updates", "timeout")] = 1,
            [("profileupdate.updates.after_timeout", "applied")] = 1,
        }, Counted());
    }

    [Fact]
    public async Task A_client_that_hung_up_is_counted_once_by_what_the_applier_did()
    {
        using var aborted = new CancellationTokenSource();
        var context = NewRequest();
        context.RequestAborted = aborted.Token;
        var answer = UpdateEndpoints.UpdateAsync(new ResolvedClient("demo"), context, _services);
        Assert.True(_queue.Reader.TryRead(out var command));

        await aborted.CancelAsync();
        var problem = Assert.IsType<ProblemHttpResult>((await answer).Result);
        Assert.Equal(StatusCodes.Status499ClientClosedRequest, problem.StatusCode);

        // Nothing was counted for the 499 itself: the applier's count is the request's one count.
        command.Complete(Applied);
        _metrics.Updates([command]);
        Assert.Equal(new Dictionary<(string, string), long> { [("profileupdate.updates", "applied")] = 1 }, Counted());
    }

    private Dictionary<(string, string), long> Counted()
    {
        lock (_counted) return new Dictionary<(string, string), long>(_counted);
    }

    private static DefaultHttpContext NewRequest()
    {
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Get;
        context.Request.Path = "/m2/demo/profile/update";
        context.Request.QueryString = new QueryString("?mbox3rdPartyId=crm-42&profile.a=1");
        return context;
    }

    /// <summary>
    /// A synchronization context that holds the continuations posted to it until <see cref="RunAll"/>: what the
    /// endpoint does after its wait ends then runs when the test says, not when the wait ends.
    /// </summary>
    private sealed class HeldContinuations : SynchronizationContext
    {
        private readonly Queue<(SendOrPostCallback Callback, object? State)> _posted = new();

        public int Pending
        {
            get
            {
                lock (_posted) return _posted.Count;
            }
        }

        public override void Post(SendOrPostCallback d, object? state)
        {
            lock (_posted) _posted.Enqueue((d, state));
        }

        /// <summary>Starts <paramref name="start"/> on this context, so its awaits come back through it.</summary>
        public T Run<T>(Func<T> start)
        {
            var previous = Current;
            SetSynchronizationContext(this);
            try
            {
                return start();
            }
            finally
            {
                SetSynchronizationContext(previous);
            }
        }

        public void RunAll()
        {
            while (true)
            {
                (SendOrPostCallback Callback, object? State) next;
                lock (_posted)
                {
                    if (!_posted.TryDequeue(out next)) return;
                }
                Run(() =>
                {
                    next.Callback(next.State);
                    return 0;
                });
            }
        }
    }
}
