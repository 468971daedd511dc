using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Logging.Abstractions;
using ProfileUpdate.Api.Http;

namespace ProfileUpdate.Tests.Http;

/// <summary>
/// docs/api.md §7: a client that hung up is a 499 without a body, and the error pipeline never throws for it (a throw
/// out of an exception handler turns the hang-up into a logged 500).
/// </summary>
public sealed class ClientHangUpTests
{
    private static DefaultHttpContext Context(bool aborted)
    {
        var context = new DefaultHttpContext { RequestAborted = new CancellationToken(aborted) };
        context.Response.Body = new MemoryStream();
        return context;
    }

    private static MalformedRequestHandler Handler() => new(new Writer(), NullLogger<MalformedRequestHandler>.Instance);

    [Fact]
    public async Task The_error_writer_answers_a_client_that_hung_up_499_without_a_body_and_does_not_throw()
    {
        var context = Context(aborted: true);
        await new ErrorResponseWriter().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = StatusCodes.Status503ServiceUnavailable, Detail = "store down" },
        });
        Assert.Equal(StatusCodes.Status499ClientClosedRequest, context.Response.StatusCode);
        Assert.Equal(0, context.Response.Body.Length);
    }

    [Fact]
    public async Task A_body_that_ended_early_is_a_hang_up_even_before_RequestAborted_is_cancelled()
    {
        // Kestrel's exception for a body cut short; RequestAborted is cancelled later, on another thread.
        var context = Context(aborted: false);
        Assert.True(await Handler().TryHandleAsync(context, new BadHttpRequestException("Unexpected end of request content."), CancellationToken.None));
        Assert.Equal(StatusCodes.Status499ClientClosedRequest, context.Response.StatusCode);
        Assert.Equal(0, context.Response.Body.Length);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_reset_connection_is_a_hang_up(bool aborted)
    {
        var context = Context(aborted);
        Assert.True(await Handler().TryHandleAsync(context, new ConnectionResetException("reset"), CancellationToken.None));
        Assert.Equal(StatusCodes.Status499ClientClosedRequest, context.Response.StatusCode);
    }

    [Fact]
    public async Task Malformed_framing_from_a_client_still_there_is_a_400_with_a_body()
    {
        var context = Context(aborted: false);
        Assert.True(await Handler().TryHandleAsync(context, new BadHttpRequestException("Bad chunk size data."), CancellationToken.None));
        Assert.Equal(StatusCodes.Status400BadRequest, context.Response.StatusCode);
        Assert.True(context.Response.Body.Length > 0);
    }

    [Fact]
    public async Task Any_other_exception_of_an_aborted_request_stays_a_fault()
    {
        var context = Context(aborted: true);
        Assert.False(await Handler().TryHandleAsync(context, new InvalidOperationException("a bug"), CancellationToken.None));
    }

    private sealed class Writer : IProblemDetailsService
    {
        public async ValueTask WriteAsync(ProblemDetailsContext context) => await new ErrorResponseWriter().WriteAsync(context);

        public async ValueTask<bool> TryWriteAsync(ProblemDetailsContext context)
        {
            await WriteAsync(context);
            return true;
        }
    }
}
