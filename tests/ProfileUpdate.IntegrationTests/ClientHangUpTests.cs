using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// docs/api.md §7: a client that hangs up in the middle of its request body is a 499 logged at Debug — never a 500, never
/// an Error, and the error handler does not fail writing an answer nobody reads. Raw sockets against real Kestrel: the
/// request announces a 500-byte body, sends 27 bytes, waits until the endpoint is reading, and closes (FIN) or resets (RST).
/// Kestrel reports the short body as "Unexpected end of request content" and cancels RequestAborted on another thread,
/// so before the fix the answer was a 400 or, when the cancellation won, a 500 with two stack traces.
/// </summary>
public sealed class ClientHangUpTests(ClientHangUpFixture fixture) : IClassFixture<ClientHangUpFixture>
{
    public static TheoryData<string, bool> Cases => new()
    {
        { "batchUpdate", false }, { "batchUpdate", true },
        { "batchDelete", false }, { "batchDelete", true },
        { "update", false }, { "update", true },
        { "delivery", false }, { "delivery", true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task A_client_that_hangs_up_mid_body_is_logged_as_499_at_debug(string endpoint, bool reset)
    {
        var client = Wire.NewClient(); // a fresh client per case: bulk submissions are rate-limited per client
        var (target, contentType, partial) = endpoint switch
        {
            "batchUpdate" => ($"/m2/{client}/v2/profile/batchUpdate", "text/plain", "batch=thirdPartyId,a\nx,1\ny,"),
            "batchDelete" => ($"/m2/{client}/v2/profile/batchDelete", "text/plain", "batch=thirdPartyId\nx\ny\nz\nw\n"),
            "update" => ($"/m2/{client}/profile/update", "application/x-www-form-urlencoded", "mbox3rdPartyId=x&profile.a=1"),
            _ => ($"/rest/v1/delivery?client={client}&sessionId=s1", "application/json", "{\"id\":{\"thirdPartyId\":\"x\"},"),
        };
        var before = fixture.Logs.Count;

        await fixture.SendAndHangUpAsync(target, contentType, partial, reset);

        var answered = await fixture.WaitForRequestLineAsync(before);
        var since = fixture.Logs.GetSnapshot().Skip(before).ToList();
        var all = string.Join("\n", since.Where(e => e.Level >= LogLevel.Information)
            .Select(e => $"{e.Level} {e.Category}: {e.Message} {e.Exception?.GetType().Name} {e.Exception?.Message}"));
        Assert.True(answered.Message.Contains("responded 499", StringComparison.Ordinal), all);
        Assert.Equal(LogLevel.Debug, answered.Level);
        // Kestrel's own lines are left out: on some hang-ups it races itself reading the connection after the request
        // ("Reading is already in progress", logged by Kestrel at Warning or Error), whatever the application did.
        Assert.False(since.Any(e => e.Level >= LogLevel.Warning && !(e.Category ?? "").StartsWith("Microsoft.AspNetCore.Server.Kestrel", StringComparison.Ordinal)), all);
    }
}

/// <summary>One service (embedded store) whose every log line, Debug included, the tests read.</summary>
public sealed class ClientHangUpFixture : IAsyncLifetime, IDisposable
{
    private readonly ServiceFactory _factory;
    private readonly IPEndPoint _endpoint;

    public ClientHangUpFixture()
    {
        _factory = new ServiceFactory(redisConnectionString: null, services: services => services.AddSingleton(_ => TestLogging.To(Logs, LogLevel.Debug)));
        var address = _factory.BaseAddress;
        _endpoint = new IPEndPoint(IPAddress.Parse(address.Host), address.Port);
    }

    internal FakeLogCollector Logs { get; } = new();

    /// <summary>A first request warms the store up: a cold one can time out the first request that reaches it.</summary>
    public async Task InitializeAsync()
    {
        using var http = _factory.CreateHttpClient();
        await Wire.VisitAsync(http, Wire.NewClient(), thirdPartyId: "warm-up");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Announces 500 body bytes, sends <paramref name="partial"/>, waits, and closes the connection.</summary>
    public async Task SendAndHangUpAsync(string target, string contentType, string partial, bool reset)
    {
        var body = Encoding.UTF8.GetBytes(partial);
        Assert.True(body.Length < 500);
        using var socket = new Socket(_endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(_endpoint);
        var head = string.Create(CultureInfo.InvariantCulture,
            $"POST {target} HTTP/1.1\r\nHost: {_endpoint}\r\nContent-Type: {contentType}\r\nContent-Length: 500\r\n\r\n");
        await socket.SendAsync(Encoding.ASCII.GetBytes(head));
        await socket.SendAsync(body);
        // Long enough for the endpoint to be waiting for the rest of the body, which is the moment the defect needs.
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        if (reset) socket.LingerState = new LingerOption(true, 0); // Close() then sends RST instead of FIN
        socket.Close();
    }

    /// <summary>The request log's line for the one request sent since <paramref name="before"/> entries.</summary>
    internal async Task<FakeLogRecord> WaitForRequestLineAsync(int before)
    {
        FakeLogRecord? line = null;
        await Eventually.WaitUntilAsync(() =>
        {
            line = Logs.GetSnapshot().Skip(before).FirstOrDefault(e => e.Category is { } category && category.EndsWith(".RequestLogMiddleware", StringComparison.Ordinal));
            return Task.FromResult(line is not null);
        }, TimeSpan.FromSeconds(30), "the request log line of the abandoned request");
        return line!;
    }

    public void Dispose() => _factory.Dispose();
}
