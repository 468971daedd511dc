using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ProfileUpdate.IntegrationTests.Infrastructure;

/// <summary>
/// A TCP proxy in front of a Redis that can lose a reply the way a broken connection does: once armed with a byte
/// pattern, the first request that contains it is passed on to Redis, but from then on nothing Redis sends on that
/// connection reaches the client; when the test's condition says the request has run, both sides are closed. The client
/// sees its connection drop with the request sent and no reply — the store did the work, the caller cannot know.
/// Every other connection (and every later one, once it tripped) is passed through untouched.
/// </summary>
public sealed class ReplyDroppingProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _open = [];
    private readonly Task _accepting;
    private byte[]? _pattern;
    private Func<Task>? _beforeCut;
    private int _armed;
    private int _matches;
    private bool _forward = true;

    public ReplyDroppingProxy(int targetPort)
    {
        _target = new IPEndPoint(IPAddress.Loopback, targetPort);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string ConnectionString => "127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);

    /// <summary>Requests seen (on any connection, before or after the cut) that contain the armed pattern.</summary>
    public int Matches => Volatile.Read(ref _matches);

    /// <summary>Whether a connection was cut with its reply dropped.</summary>
    public bool Tripped { get; private set; }

    /// <summary>
    /// The next request containing <paramref name="pattern"/> loses its reply: its connection is cut once
    /// <paramref name="beforeCut"/> has completed (the test's proof that the request ran in Redis).
    /// </summary>
    public void Arm(byte[] pattern, Func<Task> beforeCut)
    {
        (_pattern, _beforeCut, _forward) = (pattern, beforeCut, true);
        Volatile.Write(ref _armed, 1);
    }

    /// <summary>
    /// The next request containing <paramref name="pattern"/> never reaches Redis: its connection is cut as it is seen,
    /// so the client sees the connection drop with the request unanswered — and, unlike <see cref="Arm"/>, not run.
    /// <paramref name="beforeCut"/> (optional) runs between the request being held back and the cut.
    /// </summary>
    public void ArmDroppingRequest(byte[] pattern, Func<Task>? beforeCut = null)
    {
        (_pattern, _beforeCut, _forward) = (pattern, beforeCut ?? (() => Task.CompletedTask), false);
        Volatile.Write(ref _armed, 1);
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            var upstream = new TcpClient();
            try
            {
                await upstream.ConnectAsync(_target, _stop.Token);
            }
            catch (Exception)
            {
                client.Dispose();
                upstream.Dispose();
                continue;
            }
            lock (_open) _open.AddRange([client, upstream]);
            var pair = new Pair(client, upstream);
            _ = RequestsAsync(pair);
            _ = RepliesAsync(pair);
        }
    }

    private sealed class Pair(TcpClient client, TcpClient upstream)
    {
        public TcpClient Client { get; } = client;

        public TcpClient Upstream { get; } = upstream;

        /// <summary>Set once this connection's request matched: Redis's replies are dropped from then on.</summary>
        public volatile bool DropReplies;

        public void Close()
        {
            Client.Dispose();
            Upstream.Dispose();
        }
    }

    private async Task RequestsAsync(Pair pair)
    {
        var buffer = new byte[64 * 1024];
        var tail = Array.Empty<byte>(); // the end of the previous read, so a pattern split across reads is still seen
        try
        {
            var from = pair.Client.GetStream();
            var to = pair.Upstream.GetStream();
            while (true)
            {
                var read = await from.ReadAsync(buffer, _stop.Token);
                if (read == 0) break;
                var pattern = _pattern;
                var matched = false;
                if (pattern is not null)
                {
                    var seen = tail.Concat(buffer.Take(read)).ToArray();
                    matched = seen.AsSpan().IndexOf(pattern) >= 0;
                    tail = seen[Math.Max(0, seen.Length - pattern.Length + 1)..];
                    if (matched) Interlocked.Increment(ref _matches);
                }
                var cut = matched && Interlocked.Exchange(ref _armed, 0) == 1;
                if (cut) pair.DropReplies = true; // before the request goes on: its reply must never get through
                if (!cut || _forward) await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
                if (!cut) continue;
                await _beforeCut!();
                Tripped = true;
                pair.Close();
                return;
            }
        }
        catch (Exception)
        {
            // A side closed or the proxy stopped: the pair goes.
        }
        pair.Close();
    }

    private async Task RepliesAsync(Pair pair)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            var from = pair.Upstream.GetStream();
            var to = pair.Client.GetStream();
            while (true)
            {
                var read = await from.ReadAsync(buffer, _stop.Token);
                if (read == 0) break;
                if (pair.DropReplies) continue;
                await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
            }
        }
        catch (Exception)
        {
            // As above.
        }
        pair.Close();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        lock (_open) foreach (var socket in _open) socket.Dispose();
        _stop.Dispose();
    }
}
