using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using ProfileUpdate.IntegrationTests.Infrastructure;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// Replays the checked-in hostile-input corpus (<c>Corpus/hostile-requests.json</c>) byte for byte over raw TCP to the
/// real Kestrel server, so malformed framing (lying Content-Length, broken chunks, raw NUL bytes, oversized request
/// lines) reaches the service exactly as an attacker would send it. Every case is a test of its own, named after its
/// row, so one failure does not hide the others: it must get its documented status, never a 5xx and never a hang.
/// Afterwards (the last test of the class) the service must still be healthy and still apply a normal update.
/// </summary>
[TestCaseOrderer(HostileInputOrder.TypeName, HostileInputOrder.AssemblyName)]
public sealed class HostileInputTests(HostileInputFixture fixture, ITestOutputHelper output) : IClassFixture<HostileInputFixture>
{
    private const int MinimumCases = 70;

    /// <summary>One row per corpus case, by name: the name is what a failing case is reported as.</summary>
    public static TheoryData<string> CaseNames => [.. HostileCorpus.Default.Select(c => c.Name)];

    [Fact]
    public void The_corpus_is_large_enough_and_its_case_names_are_unique()
    {
        var corpus = HostileCorpus.Default;
        Assert.True(corpus.Count >= MinimumCases, $"The corpus holds {corpus.Count} cases; at least {MinimumCases} are expected.");
        var duplicates = corpus.GroupBy(c => c.Name, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicates.Count == 0, "Corpus case names must be unique: " + string.Join(", ", duplicates));
    }

    [Theory]
    [MemberData(nameof(CaseNames))]
    public async Task Corpus_case_gets_its_documented_status_never_a_5xx_or_a_hang(string name)
    {
        var outcome = await fixture.ReplayAsync(HostileCorpus.Default.Single(c => c.Name == name));
        output.WriteLine(outcome.ToString());
        Assert.True(outcome.Passed, outcome.ToString());
    }

    [Fact]
    public async Task After_the_whole_corpus_the_service_is_healthy_and_stored_nothing_mangled()
    {
        // Run on its own (a filter), the storm has not happened yet: replay it here, its verdicts are the cases' own.
        var replayed = await fixture.ReplayRemainingAsync();
        output.WriteLine($"{replayed} corpus cases were replayed by this test (0 when the cases ran before it).");
        var http = fixture.Http;

        // The service after the storm: alive, ready, and a normal visit + update + read still work.
        var afterwards = new List<string>();
        await CheckAsync(afterwards, "GET /health/live", async () =>
        {
            using var live = await http.GetAsync(new Uri("/health/live", UriKind.Relative));
            return live.StatusCode == HttpStatusCode.OK ? null : $"answered {(int)live.StatusCode}";
        });
        await CheckAsync(afterwards, "GET /health/ready", async () =>
        {
            using var ready = await http.GetAsync(new Uri("/health/ready", UriKind.Relative));
            return ready.StatusCode == HttpStatusCode.OK ? null : $"answered {(int)ready.StatusCode}";
        });
        await CheckAsync(afterwards, "visit + valid update + read back", async () =>
        {
            var laterClient = Wire.NewClient();
            var laterId = Wire.NewId("after");
            await Wire.VisitAsync(http, laterClient, thirdPartyId: laterId);
            using var update = await http.GetAsync(new Uri(
                $"/m2/{laterClient}/profile/update?mbox3rdPartyId={Uri.EscapeDataString(laterId)}&profile.afterHostile=still%20works",
                UriKind.Relative));
            if (update.StatusCode != HttpStatusCode.OK) return $"update answered {(int)update.StatusCode}: {await update.Content.ReadAsStringAsync()}";
            var outcome = update.Headers.TryGetValues("X-Profile-Update", out var values) ? string.Join(",", values) : "(none)";
            if (outcome != "applied") return $"X-Profile-Update was {outcome}, not applied";
            var profile = await Wire.ReadByThirdPartyAsync(http, laterClient, laterId);
            var stored = profile is { } p ? Wire.Attribute(p, "afterHostile") : null;
            return stored == "still works" ? null : $"read back '{stored}' instead of 'still works'";
        });
        await CheckAsync(afterwards, "nothing mangled was stored on the shared visitor", async () =>
        {
            var profile = await Wire.ReadByThirdPartyAsync(http, fixture.Client, fixture.ThirdPartyId);
            if (profile is not { } p) return "the shared visitor's profile is gone";
            var bad = p.GetProperty("profileAttributes").EnumerateObject()
                .Where(a => IsMangled(a.Name) || IsMangled(a.Value.GetProperty("value").GetString() ?? string.Empty))
                .Select(a => a.Name)
                .ToList();
            return bad.Count == 0 ? null : "attributes holding U+FFFD, a raw '%' escape or a forbidden control character: " +
                string.Join(", ", bad.Select(n => Printable(n, 40)));
        });

        var report = string.Join(Environment.NewLine, afterwards);
        output.WriteLine(report);
        Assert.True(afterwards.All(a => a.StartsWith("PASS", StringComparison.Ordinal)), "After the hostile-input corpus:" + Environment.NewLine + report);
    }

    private static async Task CheckAsync(List<string> results, string name, Func<Task<string?>> check)
    {
        try
        {
            var problem = await check();
            results.Add(problem is null ? $"PASS {name}" : $"FAIL {name}: {problem}");
        }
        catch (Exception ex)
        {
            results.Add($"FAIL {name}: {ex.GetType().Name}: {ex.Message}");
        }
    }

    private static bool IsMangled(string text) =>
        text.Contains('\uFFFD', StringComparison.Ordinal) ||
        text.Any(c => char.IsControl(c) && c is not ('\t' or '\r' or '\n'));

    internal static string Printable(string text, int max)
    {
        var clipped = text.Length > max ? text[..max] + "…" : text;
        var builder = new StringBuilder(clipped.Length);
        foreach (var c in clipped)
        {
            if (c is '\r') builder.Append("\\r");
            else if (c is '\n') builder.Append("\\n");
            else if (char.IsControl(c)) builder.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:X2}");
            else builder.Append(c);
        }
        return builder.ToString();
    }
}

/// <summary>
/// One service (embedded store) for the whole corpus, and the visitor most cases name, so that a request failing
/// validation is not masked by "profile-not-found". Remembers which cases were replayed, so the health check after the
/// corpus can tell whether the storm still has to happen.
/// </summary>
public sealed class HostileInputFixture : IAsyncLifetime, IDisposable
{
    private readonly ServiceFactory _factory = new(redisConnectionString: null);
    private readonly ConcurrentDictionary<string, bool> _replayed = new(StringComparer.Ordinal);
    private IReadOnlyDictionary<string, string> _variables = new Dictionary<string, string>();
    private IPEndPoint _endpoint = new(IPAddress.Loopback, 0);

    public HttpClient Http { get; private set; } = null!;

    public string Client { get; } = Wire.NewClient();

    public string ThirdPartyId { get; } = Wire.NewId("hostile");

    public async Task InitializeAsync()
    {
        Http = _factory.CreateHttpClient();
        var address = _factory.BaseAddress;
        _endpoint = new IPEndPoint(IPAddress.Parse(address.Host), address.Port);
        var tntId = await Wire.VisitAsync(Http, Client, thirdPartyId: ThirdPartyId);
        _variables = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["{client}"] = Client,
            ["{tp}"] = ThirdPartyId,
            ["{tnt}"] = tntId,
            ["{host}"] = $"{address.Host}:{address.Port.ToString(CultureInfo.InvariantCulture)}",
        };
    }

    /// <summary>Sends one case; a fresh client code per case where the case asks for one (bulk submissions are rate-limited per client).</summary>
    internal Task<CaseOutcome> ReplayAsync(HostileCase hostileCase)
    {
        _replayed[hostileCase.Name] = true;
        var variables = new Dictionary<string, string>(_variables, StringComparer.Ordinal) { ["{fresh}"] = Wire.NewClient() };
        return RawHttp.ReplayAsync(_endpoint, hostileCase, variables);
    }

    /// <summary>Replays, in corpus order, every case not replayed yet; returns how many that were.</summary>
    public async Task<int> ReplayRemainingAsync()
    {
        var remaining = HostileCorpus.Default.Where(c => !_replayed.ContainsKey(c.Name)).ToList();
        foreach (var hostileCase in remaining) await ReplayAsync(hostileCase);
        return remaining.Count;
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose()
    {
        Http?.Dispose();
        _factory.Dispose();
    }
}

/// <summary>
/// Runs the corpus cases in corpus order (as one replay did before they were split up) and the health check after all
/// of them: xunit's default order is by an id hash, which would put the check somewhere in the middle of the storm.
/// </summary>
public sealed class HostileInputOrder : ITestCaseOrderer
{
    public const string TypeName = "ProfileUpdate.IntegrationTests.HostileInputOrder";
    public const string AssemblyName = "ProfileUpdate.IntegrationTests";

    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases) where TTestCase : ITestCase
    {
        var position = HostileCorpus.Default.Select((c, i) => (c.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        return testCases.OrderBy(t => t.TestMethod.Method.Name switch
        {
            nameof(HostileInputTests.The_corpus_is_large_enough_and_its_case_names_are_unique) => -1,
            nameof(HostileInputTests.After_the_whole_corpus_the_service_is_healthy_and_stored_nothing_mangled) => int.MaxValue,
            _ => t.TestMethodArguments is [string name, ..] && position.TryGetValue(name, out var i) ? i : int.MaxValue - 1,
        });
    }
}

/// <summary>One case of the corpus: the raw request to send and the statuses it may get.</summary>
internal sealed record HostileCase(
    string Name,
    string Section,
    string Method,
    JsonElement Target,
    IReadOnlyList<JsonElement> Headers,
    JsonElement? Body,
    bool Chunked,
    bool HalfClose,
    bool AllowClose,
    bool NoHost,
    bool Bodyless,
    IReadOnlyList<int> Expect,
    string? ContentType,
    string? BodyContains,
    int TimeoutSeconds);

/// <summary>
/// Loads <c>hostile-requests.json</c>. A "payload" (target, header line or body) is a JSON string (UTF-8 text, with the
/// placeholders {client}, {fresh}, {tp}, {tnt} and {host} substituted), <c>{"base64": "..."}</c> for raw bytes,
/// <c>{"repeat": "text", "count": n}</c> for generated bulk, or an array of payloads concatenated.
/// </summary>
internal static class HostileCorpus
{
    private const int DefaultTimeoutSeconds = 5;

    /// <summary>The corpus copied next to the test assembly, loaded once (test discovery and every case read it).</summary>
    public static IReadOnlyList<HostileCase> Default => LazyDefault.Value;

    private static readonly Lazy<IReadOnlyList<HostileCase>> LazyDefault =
        new(() => Load(Path.Combine(AppContext.BaseDirectory, "Corpus", "hostile-requests.json")));

    public static IReadOnlyList<HostileCase> Load(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        var cases = new List<HostileCase>();
        foreach (var item in document.RootElement.GetProperty("cases").EnumerateArray())
        {
            var name = item.GetProperty("name").GetString() ?? throw new InvalidDataException("A corpus case has no name.");
            var expect = item.GetProperty("expect");
            IReadOnlyList<int> statuses = expect.ValueKind == JsonValueKind.Array
                ? expect.EnumerateArray().Select(e => e.GetInt32()).ToList()
                : [expect.GetInt32()];
            cases.Add(new HostileCase(
                name,
                Optional(item, "section")?.GetString() ?? "",
                item.GetProperty("method").GetString() ?? throw new InvalidDataException($"Case {name} has no method."),
                item.GetProperty("target").Clone(),
                Optional(item, "headers") is { } headers ? headers.EnumerateArray().Select(h => h.Clone()).ToList() : [],
                Optional(item, "body")?.Clone(),
                Flag(item, "chunked"),
                Flag(item, "halfClose"),
                Flag(item, "allowClose"),
                Flag(item, "noHost"),
                Flag(item, "bodyless"),
                statuses,
                Optional(item, "contentType")?.GetString(),
                Optional(item, "bodyContains")?.GetString(),
                Optional(item, "timeoutSeconds")?.GetInt32() ?? DefaultTimeoutSeconds));
        }
        return cases;
    }

    private static JsonElement? Optional(JsonElement item, string property) =>
        item.TryGetProperty(property, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static bool Flag(JsonElement item, string property) => Optional(item, property) is { ValueKind: JsonValueKind.True };
}

/// <summary>Turns payload descriptions into bytes, lazily, so a 50 MB generated body never sits in memory.</summary>
internal static class Payload
{
    private const int BlockBytes = 64 * 1024;

    public static IEnumerable<ReadOnlyMemory<byte>> Segments(JsonElement payload, IReadOnlyDictionary<string, string> variables)
    {
        switch (payload.ValueKind)
        {
            case JsonValueKind.String:
                yield return Encoding.UTF8.GetBytes(Substitute(payload.GetString()!, variables));
                break;
            case JsonValueKind.Array:
                foreach (var part in payload.EnumerateArray())
                {
                    foreach (var segment in Segments(part, variables)) yield return segment;
                }
                break;
            case JsonValueKind.Object when payload.TryGetProperty("base64", out var base64):
                yield return Convert.FromBase64String(base64.GetString()!);
                break;
            case JsonValueKind.Object when payload.TryGetProperty("repeat", out var repeat):
                var unit = Encoding.UTF8.GetBytes(Substitute(repeat.GetString()!, variables));
                var count = payload.GetProperty("count").GetInt64();
                if (unit.Length == 0 || count <= 0) yield break;
                var perBlock = Math.Max(1, BlockBytes / unit.Length);
                var block = new byte[unit.Length * perBlock];
                for (var i = 0; i < perBlock; i++) unit.CopyTo(block, i * unit.Length);
                for (var left = count; left > 0; left -= perBlock)
                    yield return block.AsMemory(0, (int)Math.Min(left, perBlock) * unit.Length);
                break;
            default:
                throw new InvalidDataException($"Unknown payload form: {payload.GetRawText()}");
        }
    }

    public static long Length(JsonElement payload, IReadOnlyDictionary<string, string> variables) => payload.ValueKind switch
    {
        JsonValueKind.Object when payload.TryGetProperty("repeat", out var repeat) =>
            Encoding.UTF8.GetByteCount(Substitute(repeat.GetString()!, variables)) * Math.Max(0, payload.GetProperty("count").GetInt64()),
        JsonValueKind.Array => payload.EnumerateArray().Sum(p => Length(p, variables)),
        _ => Segments(payload, variables).Sum(s => (long)s.Length),
    };

    public static byte[] Materialize(JsonElement payload, IReadOnlyDictionary<string, string> variables)
    {
        using var buffer = new MemoryStream();
        foreach (var segment in Segments(payload, variables)) buffer.Write(segment.Span);
        return buffer.ToArray();
    }

    private static string Substitute(string text, IReadOnlyDictionary<string, string> variables)
    {
        if (!text.Contains('{', StringComparison.Ordinal)) return text;
        foreach (var (name, value) in variables) text = text.Replace(name, value, StringComparison.Ordinal);
        return text;
    }
}

/// <summary>What became of one case.</summary>
internal sealed record CaseOutcome(HostileCase Case, bool Passed, string Observed, string Reason, TimeSpan Elapsed)
{
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture,
            $"{(Passed ? "PASS" : "FAIL")} [{Case.Section}] {Case.Name}: expected {string.Join("|", Case.Expect)}{(Case.AllowClose ? " or close" : "")}, " +
            $"observed {Observed} ({Elapsed.TotalMilliseconds:0} ms){(Reason.Length > 0 ? " — " + Reason : "")}");
}

/// <summary>Sends one case over a raw socket and classifies the answer.</summary>
internal static class RawHttp
{
    private static readonly byte[] HeaderEnd = "\r\n\r\n"u8.ToArray();
    private static readonly byte[] ChunkedEnd = "0\r\n\r\n"u8.ToArray();
    private const int MaxKeptResponseBytes = 1 << 20;

    public static async Task<CaseOutcome> ReplayAsync(IPEndPoint endpoint, HostileCase hostileCase, IReadOnlyDictionary<string, string> variables)
    {
        var watch = Stopwatch.StartNew();
        RawResponse response;
        try
        {
            response = await ExchangeAsync(endpoint, hostileCase, variables);
        }
        catch (Exception ex)
        {
            return new CaseOutcome(hostileCase, false, "harness error", $"{ex.GetType().Name}: {ex.Message}", watch.Elapsed);
        }
        watch.Stop();
        return Classify(hostileCase, response, watch.Elapsed);
    }

    private static CaseOutcome Classify(HostileCase c, RawResponse r, TimeSpan elapsed)
    {
        if (r.TimedOut && r.Status is null)
            return new CaseOutcome(c, false, "no answer", $"HANG: nothing within {c.TimeoutSeconds} s", elapsed);
        if (r.Status is not { } status)
            return new CaseOutcome(c, c.AllowClose, "connection closed without a response",
                c.AllowClose ? "" : "the server dropped the connection instead of answering", elapsed);

        var observed = string.Create(CultureInfo.InvariantCulture, $"{status} {r.ContentType ?? "(no content type)"} {Snippet(r.Body)}").TrimEnd();
        if (status >= 500) return new CaseOutcome(c, false, observed, "SERVER ERROR (5xx)", elapsed);
        if (r.TimedOut) return new CaseOutcome(c, false, observed, $"HANG: the response body did not complete within {c.TimeoutSeconds} s", elapsed);
        if (!c.Expect.Contains(status)) return new CaseOutcome(c, false, observed, "undocumented status", elapsed);
        // Kestrel answers these before any middleware runs, with no body, and docs/api.md ("Errors") lists them as such:
        // a body here means the service now answers them itself, and the list is out of date.
        if (c.Bodyless && (r.Body.Length > 0 || r.ContentType is not null))
            return new CaseOutcome(c, false, observed, "a body came where Kestrel's body-less answer is documented: update docs/api.md, Errors", elapsed);
        if (c.ContentType is { } type && !(r.ContentType ?? "").StartsWith(type, StringComparison.OrdinalIgnoreCase))
            return new CaseOutcome(c, false, observed, $"Content-Type is not {type}", elapsed);
        if (c.BodyContains is { } text && !r.Body.Contains(text, StringComparison.Ordinal))
            return new CaseOutcome(c, false, observed, $"body lacks '{text}'", elapsed);
        return new CaseOutcome(c, true, observed, "", elapsed);
    }

    private static string Snippet(string body)
    {
        var start = body.IndexOf("\"detail\"", StringComparison.Ordinal);
        if (start < 0) start = body.IndexOf("<message>", StringComparison.Ordinal);
        return HostileInputTests.Printable(start < 0 ? body : body[start..], 160);
    }

    private static async Task<RawResponse> ExchangeAsync(IPEndPoint endpoint, HostileCase c, IReadOnlyDictionary<string, string> variables)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(c.TimeoutSeconds));
        using var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endpoint, timeout.Token);
        await using var stream = new NetworkStream(socket, ownsSocket: false);

        var receiving = ReadResponseAsync(stream, string.Equals(c.Method, "HEAD", StringComparison.Ordinal), timeout.Token);
        var sending = SendRequestAsync(stream, socket, c, variables, timeout.Token);

        var response = await receiving;
        if (!sending.IsCompleted)
        {
            // The server answered before taking the whole body (a 413, say): stop writing.
            socket.Close();
        }
        try
        {
            await sending;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Expected when the server refuses a body early and closes the connection.
        }
        return response;
    }

    private static async Task SendRequestAsync(NetworkStream stream, Socket socket, HostileCase c, IReadOnlyDictionary<string, string> variables,
        CancellationToken cancellationToken)
    {
        var headerLines = c.Headers.Select(h => Payload.Materialize(h, variables)).ToList();
        bool Has(string name) => headerLines.Any(h => Encoding.Latin1.GetString(h).StartsWith(name + ":", StringComparison.OrdinalIgnoreCase));

        using var head = new MemoryStream();
        head.Write(Encoding.ASCII.GetBytes(c.Method + " "));
        head.Write(Payload.Materialize(c.Target, variables));
        head.Write(" HTTP/1.1\r\n"u8);
        if (!c.NoHost && !Has("Host")) head.Write(Encoding.ASCII.GetBytes($"Host: {variables["{host}"]}\r\n"));
        if (!Has("Connection")) head.Write("Connection: close\r\n"u8);
        var framed = Has("Content-Length") || Has("Transfer-Encoding");
        if (c.Body is { } sizedBody && !framed)
        {
            head.Write(c.Chunked
                ? "Transfer-Encoding: chunked\r\n"u8
                : Encoding.ASCII.GetBytes($"Content-Length: {Payload.Length(sizedBody, variables).ToString(CultureInfo.InvariantCulture)}\r\n"));
        }
        foreach (var line in headerLines)
        {
            head.Write(line);
            head.Write("\r\n"u8);
        }
        head.Write("\r\n"u8);
        await stream.WriteAsync(head.ToArray(), cancellationToken);

        if (c.Body is { } body)
        {
            var chunked = c.Chunked && !framed;
            foreach (var segment in Payload.Segments(body, variables))
            {
                if (segment.IsEmpty) continue;
                if (chunked) await stream.WriteAsync(Encoding.ASCII.GetBytes(segment.Length.ToString("X", CultureInfo.InvariantCulture) + "\r\n"), cancellationToken);
                await stream.WriteAsync(segment, cancellationToken);
                if (chunked) await stream.WriteAsync("\r\n"u8.ToArray(), cancellationToken);
            }
            if (chunked) await stream.WriteAsync(ChunkedEnd, cancellationToken);
        }
        await stream.FlushAsync(cancellationToken);
        if (c.HalfClose) socket.Shutdown(SocketShutdown.Send);
    }

    /// <summary>Reads one response: status line, headers, and the body as framed (Content-Length, chunked, or until close).</summary>
    private static async Task<RawResponse> ReadResponseAsync(NetworkStream stream, bool isHead, CancellationToken cancellationToken)
    {
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int? status = null;
        string? contentType = null;
        var headerLength = -1;
        long? contentLength = null;
        var chunked = false;
        try
        {
            while (true)
            {
                int read;
                try
                {
                    read = await stream.ReadAsync(buffer, cancellationToken);
                }
                catch (IOException)
                {
                    read = 0; // reset by the server: treated as a close
                }
                if (read == 0) break;
                if (received.Length < MaxKeptResponseBytes) received.Write(buffer, 0, read);

                if (headerLength < 0)
                {
                    var end = received.GetBuffer().AsSpan(0, (int)received.Length).IndexOf(HeaderEnd);
                    if (end < 0) continue;
                    headerLength = end + HeaderEnd.Length;
                    var lines = Encoding.Latin1.GetString(received.GetBuffer(), 0, end).Split("\r\n");
                    var parts = lines[0].Split(' ', 3);
                    if (parts.Length >= 2 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var code)) status = code;
                    foreach (var line in lines.Skip(1))
                    {
                        var colon = line.IndexOf(':', StringComparison.Ordinal);
                        if (colon <= 0) continue;
                        var name = line[..colon].Trim();
                        var value = line[(colon + 1)..].Trim();
                        if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)) contentType = value;
                        else if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) &&
                                 long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var length)) contentLength = length;
                        else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) &&
                                 value.Contains("chunked", StringComparison.OrdinalIgnoreCase)) chunked = true;
                    }
                    if (status is >= 100 and < 200)
                    {
                        // 100 Continue (or another interim answer): drop it and read the final response.
                        var rest = received.GetBuffer().AsSpan(headerLength, (int)received.Length - headerLength).ToArray();
                        received.SetLength(0);
                        received.Write(rest);
                        (status, contentType, headerLength, contentLength, chunked) = (null, null, -1, null, false);
                        continue;
                    }
                }
                if (IsComplete(received, headerLength, isHead, contentLength, chunked)) break;
            }
        }
        catch (OperationCanceledException)
        {
            return new RawResponse(status, contentType, BodyText(received, headerLength, chunked), TimedOut: true);
        }
        return new RawResponse(status, contentType, BodyText(received, headerLength, chunked), TimedOut: false);
    }

    private static bool IsComplete(MemoryStream received, int headerLength, bool isHead, long? contentLength, bool chunked)
    {
        if (headerLength < 0) return false;
        if (isHead) return true;
        var bodyLength = received.Length - headerLength;
        if (contentLength is { } length) return bodyLength >= length || received.Length >= MaxKeptResponseBytes;
        if (chunked) return received.GetBuffer().AsSpan(headerLength, (int)bodyLength).EndsWith(ChunkedEnd);
        return false; // read until the server closes
    }

    private static string BodyText(MemoryStream received, int headerLength, bool chunked)
    {
        if (headerLength < 0) return "";
        var body = received.GetBuffer().AsSpan(headerLength, (int)received.Length - headerLength);
        return Encoding.UTF8.GetString(chunked && Dechunk(body) is { } decoded ? decoded : body);
    }

    /// <summary>The payload of a chunked body, or null when it is not well-formed chunked data (then it is shown raw).</summary>
    private static byte[]? Dechunk(ReadOnlySpan<byte> body)
    {
        using var payload = new MemoryStream();
        while (true)
        {
            var lineEnd = body.IndexOf("\r\n"u8);
            if (lineEnd < 0) return null;
            var sizeText = Encoding.ASCII.GetString(body[..lineEnd]).Split(';')[0].Trim();
            if (!int.TryParse(sizeText, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var size) || size < 0) return null;
            body = body[(lineEnd + 2)..];
            if (size == 0) return payload.ToArray();
            if (body.Length < size) return null;
            payload.Write(body[..size]);
            body = body[size..];
            if (body.StartsWith("\r\n"u8)) body = body[2..];
        }
    }

    private sealed record RawResponse(int? Status, string? ContentType, string Body, bool TimedOut);
}
