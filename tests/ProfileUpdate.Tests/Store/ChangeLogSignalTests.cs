using ProfileUpdate.Api.Store;

namespace ProfileUpdate.Tests.Store;

public sealed class ChangeLogSignalTests
{
    [Fact]
    public void An_append_completes_the_waits_of_its_client_only()
    {
        var signal = new ChangeLogSignal();
        var a1 = signal.NextAppendAsync("a");
        var a2 = signal.NextAppendAsync("a");
        var b = signal.NextAppendAsync("b");

        signal.Appended("a");

        Assert.True(a1.IsCompletedSuccessfully);
        Assert.True(a2.IsCompletedSuccessfully);
        Assert.False(b.IsCompleted);
    }

    [Fact]
    public void A_wait_taken_after_an_append_waits_for_the_next_one()
    {
        var signal = new ChangeLogSignal();
        signal.Appended("a"); // nobody waiting: nothing kept
        var first = signal.NextAppendAsync("a");
        Assert.False(first.IsCompleted);

        signal.Appended("a");
        var second = signal.NextAppendAsync("a");

        Assert.True(first.IsCompletedSuccessfully);
        Assert.False(second.IsCompleted);
        signal.Appended("a");
        Assert.True(second.IsCompletedSuccessfully);
    }
}
