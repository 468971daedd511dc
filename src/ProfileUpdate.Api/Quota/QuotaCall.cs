using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using StackExchange.Redis;

namespace ProfileUpdate.Api.Quota;

/// <summary>
/// One script call that takes quota units, named so that sending it again tells whether it already ran. The script
/// stores its reply under <see cref="MarkerKey"/> (in the quota key's hash slot) for the store's retry window; when the
/// same call is sent again after its connection broke, the script reads that marker first and answers with the stored
/// reply instead of taking the units twice. The first send costs one SET, a retry one GET more.
/// </summary>
public sealed class QuotaCall
{
    // Ids are this process's random prefix (72 bits) and a counter: unique across instances and restarts, and short.
    private static readonly string Prefix = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(9));
    private static readonly RedisValue Retry = "1";
    private static long _counter;
    private bool _sent;

    public QuotaCall(string client) =>
        MarkerKey = string.Create(CultureInfo.InvariantCulture, $"pu:q:{{{client}}}:r:{Prefix}{Interlocked.Increment(ref _counter):x}");

    /// <summary><c>pu:q:{&lt;client&gt;}:r:&lt;call id&gt;</c>: the reply marker, in the slot of the client's quota key.</summary>
    public string MarkerKey { get; }

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
