using ProfileUpdate.Api.Profiles;
using ProfileUpdate.Api.Updates;

namespace ProfileUpdate.Tests.Updates;

/// <summary>
/// The race between a request that stops waiting for its update (Applier:RequestTimeout) and the applier completing
/// it: exactly one side decides how the request ends, and the applier's outcome of a command given up on is kept apart.
/// </summary>
public sealed class UpdateCommandTests
{
    private static readonly UpdateOutcome Applied = new(UpdateStatus.Applied);

    private static UpdateCommand NewCommand() =>
        new("demo", new VisitorIdentity(IdentityKind.ThirdPartyId, "crm-42"), [new ProfileAttribute("a", "1")], []);

    [Fact]
    public void Completed_first_the_applier_wins_and_the_request_gets_its_outcome()
    {
        var command = NewCommand();
        command.Complete(Applied);
        Assert.False(command.TryAbandon());
        Assert.Equal(Applied, command.Outcome);
        Assert.Null(command.AfterAbandon);
        Assert.True(command.CompletedByApplier);
    }

    [Fact]
    public void Abandoned_first_the_request_wins_and_the_applier_outcome_is_kept_apart()
    {
        var command = NewCommand();
        Assert.True(command.TryAbandon());
        Assert.Equal(UpdateStatus.Abandoned, command.Outcome.Status);
        // Still the applier's to complete: a retry after a broken connection must include it (it is written, nobody told).
        Assert.False(command.CompletedByApplier);

        command.Complete(Applied);
        Assert.Equal(UpdateStatus.Abandoned, command.Outcome.Status);
        Assert.Equal(UpdateStatus.Applied, command.AfterAbandon);
        Assert.True(command.CompletedByApplier);

        // A failed batch's sweep completes every command again: the first outcome stands, as for any command.
        command.Complete(new UpdateOutcome(UpdateStatus.StoreUnavailable, 1));
        Assert.Equal(UpdateStatus.Applied, command.AfterAbandon);
        Assert.False(command.TryAbandon());
    }

    [Fact]
    public void Racing_each_other_exactly_one_side_wins_every_time()
    {
        const int rounds = 5_000;
        var commands = Enumerable.Range(0, rounds).Select(_ => NewCommand()).ToArray();
        var abandoned = new bool[rounds];
        using var start = new Barrier(2);
        var requester = new Thread(() =>
        {
            for (var i = 0; i < rounds; i++)
            {
                start.SignalAndWait();
                abandoned[i] = commands[i].TryAbandon();
            }
        });
        requester.Start();
        for (var i = 0; i < rounds; i++)
        {
            start.SignalAndWait();
            commands[i].Complete(Applied);
        }
        requester.Join();

        for (var i = 0; i < rounds; i++)
        {
            var command = commands[i];
            if (abandoned[i])
            {
                Assert.Equal(UpdateStatus.Abandoned, command.Outcome.Status);
                Assert.Equal(UpdateStatus.Applied, command.AfterAbandon);
            }
            else
            {
                Assert.Equal(Applied, command.Outcome);
                Assert.Null(command.AfterAbandon);
            }
            Assert.True(command.CompletedByApplier);
        }
    }
}
