using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using ProfileUpdate.Api.Http;

namespace ProfileUpdate.Tests.Http;

public sealed class RequestLogMiddlewareTests
{
    [Theory]
    [InlineData(200, LogLevel.Debug)]
    [InlineData(204, LogLevel.Debug)]
    [InlineData(302, LogLevel.Debug)]
    [InlineData(StatusCodes.Status499ClientClosedRequest, LogLevel.Debug)] // the client went away: nothing to act on
    [InlineData(400, LogLevel.Information)]
    [InlineData(401, LogLevel.Information)]
    [InlineData(404, LogLevel.Information)]
    [InlineData(429, LogLevel.Information)]
    [InlineData(503, LogLevel.Information)] // store outage: refused with Retry-After, logged by the applier at Warning
    [InlineData(500, LogLevel.Error)]
    [InlineData(502, LogLevel.Error)]
    public void Successes_are_debug_refusals_information_faults_error(int status, LogLevel expected) =>
        Assert.Equal(expected, RequestLogMiddleware.LevelOf(status, failed: false));

    [Fact]
    public void An_exception_is_an_error_whatever_the_status() =>
        Assert.Equal(LogLevel.Error, RequestLogMiddleware.LevelOf(200, failed: true));
}
