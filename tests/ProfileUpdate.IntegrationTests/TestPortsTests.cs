using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// The test servers' ports: drawn below the ephemeral range, and a port taken between the draw and the bind recognised
/// from the server's own words, so that the starters retry on another port instead of failing the test.
/// </summary>
public sealed class TestPortsTests
{
    [Fact]
    public void Ports_are_drawn_free_and_below_the_ephemeral_range()
    {
        var low = TestPorts.EphemeralLow();
        for (var i = 0; i < 20; i++)
        {
            var port = TestPorts.Free();
            Assert.InRange(port, 10000, low - 1);
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();

            var node = TestPorts.Free(alsoPlus: 10000);
            Assert.InRange(node + 10000, 20000, low - 1);
            using var bus = new TcpListener(IPAddress.Loopback, node + 10000);
            bus.Start();
        }
    }

    [SkippableFact]
    public void Redis_taking_a_taken_port_is_recognised()
    {
        Skip.If(!RedisServer.IsAvailable, RedisServer.SkipReason);
        using var taken = new TcpListener(IPAddress.Loopback, TestPorts.Free());
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var info = new ProcessStartInfo(RedisServer.Executable!) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no" }) info.ArgumentList.Add(arg);
        using var redis = Process.Start(info)!;
        var output = redis.StandardOutput.ReadToEndAsync();
        var error = redis.StandardError.ReadToEndAsync();
        Assert.True(redis.WaitForExit(10_000), "redis-server kept running on a port another socket listens on");
        Assert.True(TestPorts.IsAddressInUse(output.Result + error.Result), output.Result + error.Result);
    }

    [Fact]
    public async Task The_service_on_a_taken_port_is_recognised_as_such()
    {
        using var taken = new TcpListener(IPAddress.Loopback, TestPorts.Free());
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        // The store is never reached: the bind fails first.
        await Assert.ThrowsAsync<ServiceProcess.PortTakenException>(() => ServiceProcess.StartOnAsync(port, "127.0.0.1:1", null));
    }

    [Fact]
    public void Other_start_failures_are_not_mistaken_for_a_taken_port() =>
        Assert.False(TestPorts.IsAddressInUse("Fatal error, can't open config file '/nonexistent.conf'"));
}
