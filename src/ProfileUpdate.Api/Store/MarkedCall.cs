using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using StackExchange.Redis;

namespace ProfileUpdate.Api.Store;

/// <summary>
/// One script call named so that sending it again tells whether it already ran. The script stores its reply as the
/// field <see cref="MarkerField"/> of the hash <see cref="MarkerKey"/> (a declared key in the slot of the call's other
/// keys) and sets that hash to expire after the store's retry window; when the same call is sent again after its
/// connection broke, the script reads that field first and answers with the stored reply instead of doing its work
/// twice. The first send costs one HSET and one PEXPIRE, a retry one HGET more. Quota calls
/// (<see cref="Quota.QuotaCall"/>) and, with the change feed on, the applier's apply calls (<see cref="Profiles.ApplyCall"/>)
/// share this id scheme and this rule for the retry flag.
/// </summary>
/// <remarks>
/// Why a field in a shared hash and not a key per call (the first form): under the update load about 2,000 calls a
/// second each left a key with an expiry, so Redis held some 24,000 expiring keys beside 20,000 of data, and its active
/// expiry and the larger key table cost about 1.2 µs of Redis script time per update (docs/performance.md, *Reply
/// markers in shared hashes, and a quota call in three commands*). Consecutive calls of one process share a hash
/// (<see cref="CallsPerHash"/> of them): the whole hash expires a retry window after its last write, so every marker
/// still lives a retry window after its own write, and at most <see cref="CallsPerHash"/> markers outlive that.
/// </remarks>
public abstract class MarkedCall
{
    /// <summary>Calls of one process whose markers share a hash (per client, or per client and partition).</summary>
    public const int CallsPerHash = 1024;

    // Ids are this process's random prefix (72 bits) and a counter: unique across instances and restarts, and short.
    private static readonly string Prefix = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(9));
    private static readonly RedisValue Retry = "1";
    private static long _counter;
    private bool _sent;

    /// <param name="markerKey">The marker hash's key from its name (<see cref="RedisKeys.QuotaReply"/>, …).</param>
    protected MarkedCall(Func<string, string> markerKey)
    {
        var n = Interlocked.Increment(ref _counter);
        MarkerKey = markerKey(string.Create(CultureInfo.InvariantCulture, $"{Prefix}.{n / CallsPerHash:x}"));
        MarkerField = string.Create(CultureInfo.InvariantCulture, $"{n % CallsPerHash:x}");
    }

    /// <summary>The hash that holds the reply marker: this process's, shared with its neighbouring calls.</summary>
    public string MarkerKey { get; }

    /// <summary>The reply marker's field in <see cref="MarkerKey"/>: unique to this call within that hash.</summary>
    public RedisValue MarkerField { get; }

    /// <summary>
    /// The script's retry argument for the next send: empty the first time (store the reply, read nothing), '1' every
    /// later time (answer from the marker when there is one). A call object is sent by one caller at a time.
    /// </summary>
    internal RedisValue NextSend()
    {
        var again = _sent;
        _sent = true;
        return again ? Retry : RedisValue.EmptyString;
    }
}
