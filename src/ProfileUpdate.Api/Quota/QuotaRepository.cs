using System.Globalization;
using ProfileUpdate.Api.Store;
using StackExchange.Redis;

namespace ProfileUpdate.Api.Quota;

/// <summary>
/// The rolling 24-hour quota per client: minute buckets in one small hash per client, kept by one Lua call that reads
/// Redis TIME, so every instance shares one clock and one count. State stays under 100 KB per client at any rate (at
/// most 1,441 small fields) and disappears after a day without traffic. docs/architecture.md describes the layout.
/// </summary>
public sealed class QuotaRepository(StoreConnections store, ScriptCatalog scripts, TimeProvider time)
{
    public const int WindowSeconds = 86_400;

    /// <summary>How many arguments <see cref="AddArguments"/> writes: the quota script's ARGV with a reply marker.</summary>
    public const int ArgumentCount = 7;

    private static readonly RedisValue KeyTtl = WindowSeconds + 3_600;

    // How long a call's reply marker is kept: as long as a retry of the call can follow it (StoreConnections.RetryWindow).
    // Read per call rather than at construction, so that code using only the arithmetic here needs no store.
    private RedisValue MarkerTtl => store.RetryWindowMs;

    /// <summary>Hash-tagged on the client so the script is single-slot on a cluster.</summary>
    public static RedisKey Key(string client) => $"pu:q:{{{client}}}";

    /// <summary>
    /// Admits up to <paramref name="units"/> units as <paramref name="call"/>: sent again (a retry after the connection
    /// broke), the call answers the decision it got the first time, when it ran then, and takes nothing more.
    /// </summary>
    public async Task<QuotaDecision> ConsumeAsync(string client, long limit, long units, QuotaCall call)
    {
        var args = new RedisValue[ArgumentCount];
        AddArguments(args, limit, units, call);
        return Decision(await scripts.Quota.EvaluateAsync(store.Database, [Key(client), call.MarkerKey], args), out _);
    }

    /// <summary>
    /// The quota as it stands, for the RateLimit headers of a refused request; null when the store cannot say (the
    /// refusal stands on its own and is not turned into a 503 by a failed look).
    /// </summary>
    public async Task<QuotaDecision?> TryPeekAsync(string client, long limit)
    {
        try
        {
            // A look takes nothing, so it needs no reply marker: the script's first four arguments alone.
            var args = new RedisValue[4];
            AddQuotaArguments(args, limit, 0);
            return Decision(await scripts.Quota.EvaluateAsync(store.Database, [Key(client)], args), out _);
        }
        catch (Exception ex) when (StoreFailures.IsUnavailable(ex))
        {
            return null;
        }
    }

    /// <summary>
    /// Writes the quota script's arguments at the start of <paramref name="args"/> (limit, units, now, key TTL, the
    /// reply marker's TTL in ms, whether this send of <paramref name="call"/> is a retry, and the call's field in its
    /// marker hash), for quota.lua and for a script that runs the quota as its first step (quota_apply.lua). The marker
    /// hash's key goes right after the quota key.
    /// </summary>
    public void AddArguments(RedisValue[] args, long limit, long units, QuotaCall call)
    {
        AddQuotaArguments(args, limit, units);
        args[4] = MarkerTtl;
        args[5] = call.NextSend();
        args[6] = call.MarkerField;
    }

    private void AddQuotaArguments(RedisValue[] args, long limit, long units)
    {
        args[0] = limit;
        args[1] = units;
        args[2] = Now();
        args[3] = KeyTtl;
    }

    /// <summary>
    /// The decision of a quota reply: its first four numbers, as the script ran; or, from a retry whose first send ran,
    /// the stored reply (a string: <c>admitted,remaining,reset,retryAfter</c>, and for quota_apply.lua a comma and one
    /// digit per write result). <paramref name="results"/> gets those digits, or is empty for a reply that ran.
    /// </summary>
    public static QuotaDecision Decision(RedisResult reply, out string results)
    {
        results = "";
        if (reply.Resp2Type != ResultType.BulkString)
        {
            var numbers = (RedisResult[])reply!;
            return new((long)numbers[0], (long)numbers[1], (long)numbers[2], (long)numbers[3]);
        }
        var stored = (string)reply!;
        Span<Range> parts = stackalloc Range[6];
        var count = stored.AsSpan().Split(parts, ',');
        if (count is < 4 or > 5) throw new InvalidOperationException("A quota reply marker is malformed.");
        if (count == 5) results = stored[parts[4]];
        return new(Number(parts[0]), Number(parts[1]), Number(parts[2]), Number(parts[3]));

        long Number(Range part) => long.Parse(stored.AsSpan(part), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
    }

    // Production uses Redis TIME: instance clocks may disagree, Redis's does not. An injected clock (tests) is passed in.
    private RedisValue Now() => ReferenceEquals(time, TimeProvider.System)
        ? RedisValue.EmptyString
        : time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
}
