using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ProfileUpdate.Testing;

/// <summary>
/// Ports for the servers a test starts (redis-server, the service as a process). Drawn below the kernel's ephemeral
/// range rather than taken from a port-0 bind: a port-0 port is ephemeral, and between its release and the server's
/// bind it can become the local end of any outgoing connection (a test's HTTP client, a Redis connection), which then
/// makes the server's bind fail with "address already in use". Below the range, only another listener can take it, and
/// the starters retry with a new port when that happens (<see cref="IsAddressInUse"/>).
/// </summary>
public static class TestPorts
{
    private const int Lowest = 10000;

    // Read once: the range does not change while tests run.
    private static readonly int Low = ReadEphemeralLow();

    /// <summary>A port nothing listens on now; with <paramref name="alsoPlus"/> (a cluster node's bus: port + 10000), that one too.</summary>
    public static int Free(int? alsoPlus = null)
    {
        var below = Low - (alsoPlus ?? 0);
        if (below <= Lowest + 100) throw new InvalidOperationException($"No room for test ports below the ephemeral range ({Low}).");
        while (true)
        {
            var port = Random.Shared.Next(Lowest, below);
            if (IsFree(port) && (alsoPlus is not { } plus || IsFree(port + plus))) return port;
        }
    }

    /// <summary>Whether a server's start-up output says its port was taken meanwhile (worth a retry on another port).</summary>
    public static bool IsAddressInUse(string output) => output.Contains("already in use", StringComparison.OrdinalIgnoreCase);

    /// <summary>The first port of the kernel's ephemeral range (Linux: /proc/sys/net/ipv4/ip_local_port_range; else IANA's 49152).</summary>
    public static int EphemeralLow() => Low;

    private static int ReadEphemeralLow()
    {
        const string range = "/proc/sys/net/ipv4/ip_local_port_range";
        if (File.Exists(range) &&
            int.TryParse(File.ReadAllText(range).Split((char[])['\t', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries)[0],
                NumberStyles.Integer, CultureInfo.InvariantCulture, out var low))
            return low;
        return 49152;
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
