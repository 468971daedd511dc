using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using StackExchange.Redis;

namespace ProfileUpdate.Api.Store;

/// <summary>
/// A connection of its own for the applier's one hot call on standalone Redis (quota_apply.lua: a client's share of a
/// batch, quota and writes in one script call), written from the caller's thread and read by one dedicated thread that
/// completes each call where its reply is parsed.
/// </summary>
/// <remarks>
/// Hand-written RESP instead of StackExchange.Redis, for this one call only, because a measurement says the library costs
/// more here than the rest of the call: the Micro program's <c>store-load</c> (the applier's exact calls, 16 updates per
/// call, 4 in flight, no HTTP) spent 4.8-5.0 µs of the sender's CPU per update through StackExchange.Redis against
/// 1.7-2.0 µs through this path, three pairs alternating on one Redis (docs/performance.md, <i>A connection of its own
/// for the hot script</i>). The library's reply travels from its socket reader through the thread pool before the batch
/// can complete; here the thread that reads the reply completes the batch, and the send happens on the thread that built
/// the call. Everything else (reads, bulk, cluster, TLS, Sentinel) stays on StackExchange.Redis, which also remains the
/// judge of whether the store is reachable: while its write connection is down, calls here fail fast too.
/// Semantics match the library's for the applier: replies in order, a call not answered within the async timeout fails
/// with <see cref="RedisTimeoutException"/> (the connection stays: its reply, when it comes, is dropped), a broken
/// connection fails every open call with <see cref="RedisConnectionException"/> and is re-opened by the next call, and
/// an error reply becomes a <see cref="RedisServerException"/> (NOSCRIPT: sent again with the script's source).
/// </remarks>
public sealed partial class DirectScriptConnection : IDisposable
{
    private readonly EndPoint _endPoint;
    private readonly string? _user;
    private readonly string? _password;
    private readonly int _database;
    private readonly string _clientName;
    private readonly TimeSpan _connectTimeout;
    private readonly TimeSpan _replyTimeout;
    private readonly Func<bool> _storeConnected;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _connectLock = new(1, 1);
    private volatile Link? _link;
    private volatile bool _disposed;

    private DirectScriptConnection(ConfigurationOptions config, Func<bool> storeConnected, ILogger logger)
    {
        _endPoint = config.EndPoints[0];
        _user = config.User;
        _password = config.Password;
        _database = config.DefaultDatabase ?? 0;
        _clientName = (config.ClientName ?? "profile-update") + "-apply";
        _connectTimeout = TimeSpan.FromMilliseconds(config.ConnectTimeout);
        _replyTimeout = TimeSpan.FromMilliseconds(config.AsyncTimeout);
        _storeConnected = storeConnected;
        _logger = logger;
    }

    /// <summary>
    /// The direct connection for a store reached at one plain-TCP endpoint; null where it does not apply (switched off,
    /// TLS, Sentinel, several endpoints, a proxy or tunnel), and the script then goes through StackExchange.Redis.
    /// </summary>
    public static DirectScriptConnection? TryCreate(ConfigurationOptions config, bool enabled, Func<bool> storeConnected, ILogger logger)
    {
        if (!enabled || config.Ssl || config.ServiceName is not null || config.EndPoints.Count != 1 || config.Proxy != Proxy.None ||
            config.Tunnel is not null || config.EndPoints[0] is not (IPEndPoint or DnsEndPoint))
            return null;
        return new DirectScriptConnection(config, storeConnected, logger);
    }

    /// <summary>Where the connection goes (logged at start-up).</summary>
    public override string ToString() => _endPoint.ToString() ?? "";

    /// <summary>
    /// EVALSHA of <paramref name="script"/>; EVAL with its source when the server does not know it (restart, failover).
    /// The reply must be an array of integers (or one integer), which is what the applier's scripts return.
    /// </summary>
    public async Task<long[]> EvaluateAsync(RedisScript script, RedisKey[] keys, RedisValue[] args)
    {
        try
        {
            return await CallAsync(script, bySha: true, keys, args);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            return await CallAsync(script, bySha: false, keys, args);
        }
    }

    private async Task<long[]> CallAsync(RedisScript script, bool bySha, RedisKey[] keys, RedisValue[] args)
    {
        var link = _link is { Dead: false } open ? open : await ConnectAsync();
        Task<long[]> call;
        var writer = new RespWriter(256 + 64 * (keys.Length + args.Length));
        try
        {
            writer.ArrayHeader(3 + keys.Length + args.Length);
            if (bySha)
            {
                writer.Bulk("EVALSHA"u8);
                writer.Bulk(script.Sha1Hex);
            }
            else
            {
                writer.Bulk("EVAL"u8);
                writer.Bulk(script.Source);
            }
            writer.Bulk(keys.Length);
            foreach (var key in keys) writer.Bulk(key);
            foreach (var arg in args) writer.Bulk(arg);
            call = link.Send(writer.Written.Span);
        }
        finally
        {
            writer.Dispose();
        }
        try
        {
            return await call.WaitAsync(_replyTimeout);
        }
        catch (TimeoutException)
        {
            throw new RedisTimeoutException(CommandFlags.None, $"The store did not answer the {script.Name} script within {_replyTimeout.TotalMilliseconds:0} ms.", CommandStatus.Sent);
        }
    }

    private async Task<Link> ConnectAsync()
    {
        // As the library's fail-fast backlog policy: while the store's write connection is down, fail at once rather
        // than spend a connect timeout per batch; the applier waits for the restore (within ReconnectGrace) and retries.
        if (!_storeConnected())
            throw Broken(ConnectionFailureType.UnableToConnect, "The profile store is not connected.");
        await _connectLock.WaitAsync();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_link is { Dead: false } open) return open;
            // Blocking calls only, connect and handshake included: on Linux, one asynchronous call switches the socket to
            // non-blocking for good, and .NET then emulates every blocking Send and Receive on it through epoll —
            // measured, that alone took back two thirds of what this connection saves.
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp)
            {
                NoDelay = true,
                SendTimeout = (int)_replyTimeout.TotalMilliseconds,
                ReceiveTimeout = (int)_connectTimeout.TotalMilliseconds,
            };
            try
            {
                await Task.Run(() =>
                {
                    socket.Connect(_endPoint);
                    Handshake(socket);
                }).WaitAsync(_connectTimeout);
                socket.ReceiveTimeout = 0; // replies are waited for by each call's own timeout
            }
            catch (Exception ex) when (ex is SocketException or TimeoutException or IOException)
            {
                socket.Dispose(); // also ends a connect still running after the timeout
                throw Broken(ConnectionFailureType.UnableToConnect, $"Could not open the applier's script connection ({ex.GetType().Name}).", ex);
            }
            catch
            {
                socket.Dispose();
                throw;
            }
            var link = new Link(socket, this);
            link.StartReading();
            _link = link;
            LogOpened(_logger, _endPoint.ToString() ?? "");
            return link;
        }
        finally
        {
            _connectLock.Release();
        }
    }

    /// <summary>AUTH, SELECT and CLIENT SETNAME as configured, answered before the connection is used.</summary>
    private void Handshake(Socket socket)
    {
        var writer = new RespWriter(256);
        var replies = 0;
        try
        {
            if (_password is not null)
            {
                writer.ArrayHeader(_user is null ? 2 : 3);
                writer.Bulk("AUTH"u8);
                if (_user is not null) writer.Bulk(_user);
                writer.Bulk(_password);
                replies++;
            }
            if (_database != 0)
            {
                writer.ArrayHeader(2);
                writer.Bulk("SELECT"u8);
                writer.Bulk(_database);
                replies++;
            }
            writer.ArrayHeader(3);
            writer.Bulk("CLIENT"u8);
            writer.Bulk("SETNAME"u8);
            writer.Bulk(_clientName);
            replies++;
            socket.Send(writer.Written.Span);
        }
        finally
        {
            writer.Dispose();
        }

        var buffer = new byte[4096];
        int filled = 0, start = 0;
        for (var i = 0; i < replies; i++)
        {
            Reply reply;
            int used;
            while (!RespReader.TryRead(buffer.AsSpan(start, filled - start), out used, out reply))
            {
                var got = socket.Receive(buffer, filled, buffer.Length - filled, SocketFlags.None);
                if (got == 0) throw new IOException("The store closed the connection during the handshake.");
                filled += got;
            }
            start += used;
            // A compatible store without CLIENT SETNAME is still fine to use (the name only helps operators); AUTH and
            // SELECT are not. The error's first word only: the rest may echo what was sent.
            if (reply.Error is { } error && i < replies - 1)
                throw Broken(ConnectionFailureType.AuthenticationFailure, $"The store refused the applier's script connection: {error.Split(' ')[0]}");
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _link?.Fail(Broken(ConnectionFailureType.ConnectionDisposed, "The store connection was closed."));
    }

    private static RedisConnectionException Broken(ConnectionFailureType type, string message, Exception? inner = null) =>
        new(type, CommandFlags.None, message, inner, CommandStatus.Unknown);

    private static RedisServerException ServerError(string error) =>
        new(error.StartsWith("NOSCRIPT", StringComparison.Ordinal) ? RedisErrorKind.NoScript : RedisErrorKind.Unknown, CommandFlags.None, error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Applier script connection opened to {EndPoint}")]
    private static partial void LogOpened(ILogger logger, string endPoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Applier script connection lost ({Error}); {Open} calls failed, the next call re-opens it")]
    private static partial void LogLost(ILogger logger, string error, int open);

    /// <summary>One opened socket: its calls in flight, in the order they were sent, and the thread that reads the replies.</summary>
    private sealed class Link(Socket socket, DirectScriptConnection owner)
    {
        private readonly ConcurrentQueue<TaskCompletionSource<long[]>> _open = new();
        // Serialises sends: a call's position in _open must be its position on the wire.
        private readonly Lock _send = new();
        private int _failed;

        public bool Dead => Volatile.Read(ref _failed) != 0;

        public void StartReading() =>
            new Thread(ReadLoop) { IsBackground = true, Name = "store-apply-reader" }.Start();

        /// <summary>Sends one call; its reply completes the returned task (on the reading thread).</summary>
        public Task<long[]> Send(ReadOnlySpan<byte> call)
        {
            // Continuations run on the reading thread: that is the point (see the class remarks). What they run is the
            // applier's completion of a batch, which never blocks on this connection.
            var reply = new TaskCompletionSource<long[]>();
            Exception? broken = null;
            lock (_send)
            {
                if (Dead) throw Broken(ConnectionFailureType.SocketFailure, "The applier's script connection was lost.");
                _open.Enqueue(reply);
                try
                {
                    // A blocking send: it returns at once when the socket's buffer takes the call, which it does unless the
                    // call is larger than the buffer (then it waits for Redis to read it, at most SendTimeout).
                    while (call.Length > 0) call = call[socket.Send(call)..];
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                    broken = ex;
                }
            }
            // The reply can never come: fail this call and every one before it (Fail takes the send lock, so only now).
            if (broken is not null)
                Fail(Broken(ConnectionFailureType.SocketFailure, $"The applier's script connection failed ({broken.GetType().Name}).", broken));
            return reply.Task;
        }

        /// <summary>Closes the socket and fails every open call; the next call opens a new link.</summary>
        public void Fail(Exception error)
        {
            if (Interlocked.Exchange(ref _failed, 1) != 0) return;
            socket.Dispose();
            var count = 0;
            // Sends check Dead under _send, so nothing is queued after a sender that saw it set. One already past the check
            // sends on the closed socket, fails, and calls Fail, which finds the work done; its call is drained below,
            // after the send lock has been taken once (that sender has then left it: a blocked send was ended by the close).
            lock (_send)
            {
            }
            while (_open.TryDequeue(out var call)) count += call.TrySetException(error) ? 1 : 0;
            if (!owner._disposed) LogLost(owner._logger, error.GetType().Name, count);
        }

        private void ReadLoop()
        {
            var buffer = new byte[16 * 1024];
            int start = 0, end = 0;
            try
            {
                while (true)
                {
                    if (end == buffer.Length)
                    {
                        // Make room: move what is unparsed to the front, or grow when one reply fills the buffer.
                        if (start > 0) buffer.AsSpan(start, end - start).CopyTo(buffer);
                        else Array.Resize(ref buffer, buffer.Length * 2);
                        end -= start;
                        start = 0;
                    }
                    var got = socket.Receive(buffer, end, buffer.Length - end, SocketFlags.None);
                    if (got == 0)
                    {
                        Fail(Broken(ConnectionFailureType.SocketClosed, "The store closed the applier's script connection."));
                        return;
                    }
                    end += got;
                    while (RespReader.TryRead(buffer.AsSpan(start, end - start), out var used, out var reply))
                    {
                        start += used;
                        if (!_open.TryDequeue(out var call))
                            throw new InvalidDataException("The store sent a reply nobody asked for.");
                        if (reply.Error is { } error) call.TrySetException(ServerError(error));
                        else if (reply.Integers is { } integers) call.TrySetResult(integers);
                        else call.TrySetException(new RedisServerException(RedisErrorKind.Unknown, CommandFlags.None, "The script's reply was not a list of integers."));
                    }
                    if (start == end) start = end = 0;
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidDataException)
            {
                Fail(Broken(ConnectionFailureType.SocketFailure, $"The applier's script connection failed ({ex.GetType().Name}).", ex));
            }
        }
    }

    /// <summary>A parsed reply: an error's text, or the integers of an integer (array) reply; neither for any other shape.</summary>
    internal readonly record struct Reply(string? Error, long[]? Integers);

    /// <summary>RESP2 replies (the connection never switches to RESP3): enough to read what the applier's scripts return.</summary>
    internal static class RespReader
    {
        /// <summary>Reads one whole reply from the start of <paramref name="data"/>; false when it is not all there yet.</summary>
        public static bool TryRead(ReadOnlySpan<byte> data, out int used, out Reply reply)
        {
            used = 0;
            reply = default;
            if (!TryLine(data, ref used, out var line)) return false;
            switch (line[0])
            {
                case (byte)'-':
                    reply = new Reply(Encoding.UTF8.GetString(line[1..]), null);
                    return true;
                case (byte)':':
                    reply = new Reply(null, [Integer(line)]);
                    return true;
                case (byte)'*':
                    var count = (int)Integer(line);
                    if (count < 0) return true; // a null array
                    var integers = new long[count];
                    var allIntegers = true;
                    for (var i = 0; i < count; i++)
                    {
                        var at = used;
                        if (!TryLine(data, ref at, out var element)) return false;
                        if (element[0] == (byte)':')
                        {
                            integers[i] = Integer(element);
                            used = at;
                        }
                        else
                        {
                            allIntegers = false;
                            if (!TrySkip(data, ref used)) return false;
                        }
                    }
                    reply = new Reply(null, allIntegers ? integers : null);
                    return true;
                default:
                    var whole = 0;
                    if (!TrySkip(data, ref whole)) return false;
                    used = whole;
                    return true;
            }
        }

        /// <summary>Moves past one whole value of any RESP2 type; false when it is not all there yet.</summary>
        private static bool TrySkip(ReadOnlySpan<byte> data, ref int pos)
        {
            if (!TryLine(data, ref pos, out var line)) return false;
            switch (line[0])
            {
                case (byte)'+' or (byte)'-' or (byte)':':
                    return true;
                case (byte)'$':
                    var length = Integer(line);
                    if (length < 0) return true;
                    if (data.Length - pos < length + 2) return false;
                    pos += (int)length + 2;
                    return true;
                case (byte)'*':
                    var count = Integer(line);
                    for (var i = 0; i < count; i++)
                        if (!TrySkip(data, ref pos)) return false;
                    return true;
                default:
                    throw new InvalidDataException($"Unexpected RESP type '{(char)line[0]}' in a reply.");
            }
        }

        private static long Integer(ReadOnlySpan<byte> line) =>
            Utf8Parser.TryParse(line[1..], out long value, out var consumed) && consumed == line.Length - 1
                ? value
                : throw new InvalidDataException("A malformed number in a reply.");

        private static bool TryLine(ReadOnlySpan<byte> data, ref int pos, out ReadOnlySpan<byte> line)
        {
            line = default;
            var newline = data[pos..].IndexOf((byte)'\n');
            if (newline < 0) return false;
            if (newline < 2 || data[pos + newline - 1] != (byte)'\r') throw new InvalidDataException("A malformed line in a reply.");
            line = data.Slice(pos, newline - 1);
            pos += newline + 1;
            return true;
        }
    }

    /// <summary>A RESP2 command in a pooled buffer.</summary>
    internal struct RespWriter(int capacity) : IDisposable
    {
        private byte[] _buffer = ArrayPool<byte>.Shared.Rent(capacity);
        private int _length;

        public readonly ReadOnlyMemory<byte> Written => _buffer.AsMemory(0, _length);

        public void ArrayHeader(int count) => Header((byte)'*', count);

        public void Bulk(ReadOnlySpan<byte> value)
        {
            Header((byte)'$', value.Length);
            Ensure(value.Length + 2);
            value.CopyTo(_buffer.AsSpan(_length));
            _length += value.Length;
            End();
        }

        public void Bulk(string value)
        {
            var count = Encoding.UTF8.GetByteCount(value);
            Header((byte)'$', count);
            Ensure(count + 2);
            _length += Encoding.UTF8.GetBytes(value, _buffer.AsSpan(_length));
            End();
        }

        public void Bulk(long value)
        {
            Span<byte> digits = stackalloc byte[20];
            Utf8Formatter.TryFormat(value, digits, out var written);
            Bulk(digits[..written]);
        }

        public void Bulk(RedisKey key)
        {
            if ((string?)key is { } text) Bulk(text);
            else Bulk(((byte[]?)key).AsSpan());
        }

        /// <summary>As the library puts the value on the wire (numbers in its own text form).</summary>
        public void Bulk(RedisValue value)
        {
            var count = value.GetByteCount();
            Header((byte)'$', count);
            Ensure(count + 2);
            _length += value.CopyTo(_buffer.AsSpan(_length));
            End();
        }

        private void Header(byte type, long count)
        {
            Ensure(24);
            _buffer[_length++] = type;
            Utf8Formatter.TryFormat(count, _buffer.AsSpan(_length), out var written);
            _length += written;
            End();
        }

        private void End()
        {
            _buffer[_length++] = (byte)'\r';
            _buffer[_length++] = (byte)'\n';
        }

        private void Ensure(int more)
        {
            if (_length + more <= _buffer.Length) return;
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _length + more));
            _buffer.AsSpan(0, _length).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
        }

        public void Dispose()
        {
            if (_buffer.Length > 0) ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }
}
