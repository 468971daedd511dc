using Microsoft.AspNetCore.Http;
using ProfileUpdate.Api.Bulk;

namespace ProfileUpdate.Tests.Bulk;

/// <summary>docs/api.md §2: <c>Prefer: wait=N</c> waits at most 600 s; every larger N is capped the same way.</summary>
public sealed class PreferredWaitTests
{
    private static TimeSpan? Wait(string prefer)
    {
        var context = new DefaultHttpContext();
        context.Request.Headers["Prefer"] = prefer;
        return BulkEndpoints.PreferredWait(context.Request);
    }

    [Theory]
    [InlineData("wait=30", 30)]
    [InlineData("wait=0", 0)]
    [InlineData("wait=600", 600)]
    [InlineData("wait=601", 600)]
    [InlineData("wait=99999999999", 600)] // past int's range: was ignored (no wait at all)
    [InlineData("wait=99999999999999999999999", 600)]
    [InlineData("wait=\"0000000000030\"", 30)]
    [InlineData("respond-async, wait=45", 45)]
    public void A_wait_is_honoured_up_to_600_seconds(string prefer, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Wait(prefer));

    [Theory]
    [InlineData("wait=-1")]
    [InlineData("wait=")]
    [InlineData("wait=1.5")]
    [InlineData("return=minimal")]
    public void Anything_else_is_no_wait(string prefer) => Assert.Null(Wait(prefer));
}
