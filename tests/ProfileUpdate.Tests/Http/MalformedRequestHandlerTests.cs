using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using ProfileUpdate.Api.Http;

namespace ProfileUpdate.Tests.Http;

public sealed class MalformedRequestHandlerTests
{
    /// <summary>Keeps the problem the handler asked to write, so its status and sentence can be checked.</summary>
    private sealed class CapturingProblems : IProblemDetailsService
    {
        public ProblemDetailsContext? Written { get; private set; }

        public ValueTask WriteAsync(ProblemDetailsContext context)
        {
            Written = context;
            return ValueTask.CompletedTask;
        }

        public ValueTask<bool> TryWriteAsync(ProblemDetailsContext context)
        {
            Written = context;
            return ValueTask.FromResult(true);
        }
    }

    private static async Task<(int Status, string? Detail)> HandleAsync(Exception exception)
    {
        var problems = new CapturingProblems();
        var handler = new MalformedRequestHandler(problems, NullLogger<MalformedRequestHandler>.Instance);
        var context = new DefaultHttpContext();
        Assert.True(await handler.TryHandleAsync(context, exception, CancellationToken.None));
        return (context.Response.StatusCode, problems.Written?.ProblemDetails.Detail);
    }

    [Fact]
    public async Task A_body_that_stalls_is_a_timeout_not_malformed_framing()
    {
        // What Kestrel throws when MinRequestBodyDataRate gives up on a body (Content-Length: 100, 29 bytes sent, then silence).
        var (status, detail) = await HandleAsync(new BadHttpRequestException("Reading the request body timed out due to data arriving too slowly.", StatusCodes.Status408RequestTimeout));
        Assert.Equal(StatusCodes.Status408RequestTimeout, status);
        Assert.NotNull(detail);
        Assert.DoesNotContain("framing", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("malformed", detail, StringComparison.Ordinal);
        Assert.Contains("stopped arriving", detail, StringComparison.Ordinal);
        Assert.Contains("without pausing", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Broken_framing_is_still_called_malformed_and_too_large_too_large()
    {
        var (status, detail) = await HandleAsync(new BadHttpRequestException("Bad chunk size data.", StatusCodes.Status400BadRequest));
        Assert.Equal(StatusCodes.Status400BadRequest, status);
        Assert.Equal("The request body could not be read: its framing (Content-Length, chunked encoding or multipart boundaries) is malformed.", detail);

        (status, detail) = await HandleAsync(new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge));
        Assert.Equal(StatusCodes.Status413PayloadTooLarge, status);
        Assert.Equal("The request body is larger than this endpoint accepts.", detail);
    }
}
