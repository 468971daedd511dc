using System.Globalization;
using System.Text;
using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Profiles;
using ProfileUpdate.Api.Store;

namespace ProfileUpdate.Benchmarks.Micro;

/// <summary>
/// `seed &lt;visitors&gt; [client]`: writes to stdout, in the Redis protocol for <c>redis-cli --pipe</c>, the visitors
/// bench-0 … bench-(n-1) as the service's visit API leaves them (profile hash and thirdPartyId link). The keys come from
/// the service's own <see cref="RedisKeys"/> (a profile's key depends on a hash of its tntId), so the load scripts never
/// drift from the layout.
/// </summary>
public static class Seed
{
    public static int Run(string[] args)
    {
        if (args.Length < 2 || !int.TryParse(args[1], CultureInfo.InvariantCulture, out var visitors) || visitors < 1)
        {
            Console.Error.WriteLine("usage: seed <visitors> [client]");
            return 2;
        }
        var client = args.Length > 2 ? args[2] : "bench";
        using var output = new BufferedStream(Console.OpenStandardOutput(), 1 << 16);
        for (var i = 0; i < visitors; i++)
        {
            var tnt = TntId(i);
            var tntBase = VisitorIds.TntBase(tnt);
            var id = "bench-" + i.ToString(CultureInfo.InvariantCulture);
            Command(output, "HSET", RedisKeys.Profile(client, tntBase, ProfilesOptions.DefaultPartitions), RedisKeys.FieldTntId, tnt,
                RedisKeys.FieldThirdPartyId, id, RedisKeys.FieldLinkPrefix + id, "", RedisKeys.FieldCreated, "0", RedisKeys.FieldModified, "0");
            Command(output, "SET", RedisKeys.ThirdParty(client, id), tnt);
        }
        return 0;
    }

    /// <summary>The tntId of seeded visitor <paramref name="visitor"/> (bench-&lt;visitor&gt;).</summary>
    public static string TntId(int visitor) => visitor.ToString("x32", CultureInfo.InvariantCulture) + ".0_0";

    private static void Command(Stream output, params string[] parts)
    {
        var text = new StringBuilder().Append('*').Append(parts.Length).Append("\r\n");
        foreach (var part in parts) text.Append('$').Append(Encoding.UTF8.GetByteCount(part)).Append("\r\n").Append(part).Append("\r\n");
        output.Write(Encoding.UTF8.GetBytes(text.ToString()));
    }
}
