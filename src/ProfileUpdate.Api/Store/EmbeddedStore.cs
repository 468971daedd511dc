using System.Net;
using System.Net.Sockets;
using Garnet;

namespace ProfileUpdate.Api.Store;

/// <summary>
/// An in-process Garnet server (Microsoft's Redis-compatible store) on a loopback port, started when no
/// <c>ConnectionStrings:Redis</c> is configured, so a newcomer needs nothing but the .NET SDK. The service talks to it
/// through the same StackExchange.Redis code path as to a real Redis. It keeps data in memory only: use Redis for
/// anything that must survive a restart of the service.
/// </summary>
public sealed class EmbeddedStore : IDisposable
{
    private readonly GarnetServer _server;

    public EmbeddedStore(EmbeddedStoreOptions options, ILoggerFactory? loggerFactory = null)
    {
        Port = options.Port == 0 ? FreeLoopbackPort() : options.Port;
        string[] args =
        [
            "--bind", IPAddress.Loopback.ToString(),
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--lua", "true",
            // Without it Garnet runs a script's commands unlocked, interleaved with other clients' commands: a reader could
            // see a profile half-way through apply.lua (a set without the removal of the same request, measured). In
            // transaction mode a script locks its KEYS for its run, which gives the atomicity the scripts are written for.
            "--lua-transaction-mode", "true",
            "--memory", options.Memory,
            "--index", options.Index,
        ];
        _server = new GarnetServer(args, loggerFactory);
        _server.Start();
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port}";

    public void Dispose() => _server.Dispose();

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
