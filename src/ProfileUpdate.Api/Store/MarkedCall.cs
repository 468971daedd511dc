using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using StackExchange.Redis;

namespace ProfileUpdate.Api.Store;

/// <summary>
/// One script call named so that sending it again tells whether it already ran. The script stores its reply under
/// <see cref="MarkerKey"/> (a declared key in the slot of the call's other keys) for the store's retry window; when the
/// same call is sent again after its connection broke, the script reads that marker first and answers with the stored
/// reply instead of doing its work twice. The first send costs one SET, a retry one GET more. Quota calls
/// (<see cref="Quota.QuotaCall"/>) and, with the change feed on, the applier's apply calls (<see cref="Profiles.ApplyCall"/>)
/// share this id scheme and this rule for the retry flag.
/// </summary>
public abstract class MarkedCall(string markerKey)
{
    // Ids are this process's random prefix (72 bits) and a counter: unique across instances and restarts, and short.
    private static readonly string Prefix = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(9));
    private static readonly RedisValue Retry = "1";
    private static long _counter;
    private bool _sent;

    /// <summary>The reply marker's key.</summary>
    public string MarkerKey { get; } = markerKey;

    /// <summary>A new call id, for a marker key: unique across calls, instances and restarts.</summary>
    protected static string NewId() =>
        string.Create(CultureInfo.InvariantCulture, $"{Prefix}{Interlocked.Increment(ref _counter):x}");

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
