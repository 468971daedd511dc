using System.IO.Hashing;
using System.Text;

namespace ProfileUpdate.Api.Store;

/// <summary>
/// Key layout. Every key carries a hash tag (<c>{…}</c>) so that a script touching one profile stays in one slot, and
/// the same code runs on standalone Redis and Redis Cluster. The client code cannot contain ':', '{' or '}', so keys of
/// different clients never collide.
/// </summary>
public static class RedisKeys
{
    /// <summary>
    /// The profile hash, keyed by the tntId without its location hint and tagged with the profile's partition (see
    /// <see cref="Partition"/>), so a change-log partition and its profiles share a hash slot on Redis Cluster.
    /// </summary>
    public static string Profile(string client, string tntBase, int partitions) =>
        ProfileInPartition(client, Partition(tntBase, partitions), tntBase);

    /// <summary>The profile hash, its partition known (<see cref="Partition"/>).</summary>
    public static string ProfileInPartition(string client, int partition, string tntBase) => $"pu:{{{client}:p{partition}}}:t:{tntBase}";

    /// <summary>
    /// The partition (0 to <paramref name="partitions"/> - 1) of the profile with this tntId base: the low bits of its
    /// XxHash32 over UTF-8. Part of every profile's key, so it must never change for a store's life.
    /// </summary>
    public static int Partition(string tntBase, int partitions)
    {
        if (partitions == 1) return 0;
        var max = Encoding.UTF8.GetMaxByteCount(tntBase.Length);
        Span<byte> buffer = max <= 512 ? stackalloc byte[max] : new byte[max];
        var length = Encoding.UTF8.GetBytes(tntBase, buffer);
        return (int)(XxHash32.HashToUInt32(buffer[..length]) & (uint)(partitions - 1));
    }

    /// <summary>thirdPartyId → the tntId (as first given) of the profile it is linked to.</summary>
    public static string ThirdParty(string client, string thirdPartyId) => $"pu:{{{client}:3p:{thirdPartyId}}}";

    /// <summary>
    /// One change log of a client (a list, oldest first; docs/architecture.md "Change feed"): one element per applied
    /// change, "&lt;kind&gt;&lt;epoch ms&gt;&lt;flag&gt;&lt;body&gt;" (the head with its sequence number in front), appended by the script
    /// that applies the change.
    /// Partition 0 is the client's only log on standalone Redis and the embedded store; on Redis Cluster each partition
    /// has its own, in the slot of that partition's profiles.
    /// </summary>
    public static string ChangeLog(string client, int partition) => $"pu:c:{{{client}:p{partition}}}";

    /// <summary>
    /// <c>pu:q:{&lt;client&gt;}:r:&lt;name&gt;</c>: a hash of quota calls' reply markers (<see cref="MarkedCall"/>: a field per
    /// call, named <c>&lt;process prefix&gt;.&lt;n&gt;</c>), in the slot of the client's quota key.
    /// </summary>
    public static string QuotaReply(string client, string name) => $"pu:q:{{{client}}}:r:{name}";

    /// <summary>
    /// <c>pu:r:{&lt;client&gt;:p&lt;N&gt;}:&lt;name&gt;</c>: a hash of apply calls' reply markers (<see cref="MarkedCall"/>, change
    /// feed on; a field per call), tagged with a partition of the calls' profiles so it shares their slot on Redis
    /// Cluster. Outside the <c>pu:{…}</c> names of profile data: it is the calls', not the profiles'.
    /// </summary>
    public static string ApplyReply(string client, int partition, string name) => $"pu:r:{{{client}:p{partition}}}:{name}";

    /// <summary>The store's layout marker: "profiles:p&lt;Partitions&gt;", written once, checked at every start (StoreLayoutCheck).</summary>
    public const string Layout = "pu:layout";

    /// <summary>
    /// Reserved hash fields; attribute fields are <see cref="AttributePrefix"/> + name, holding
    /// "&lt;modified epoch ms&gt;:&lt;value&gt;": an attribute's modification time travels with it in one field.
    /// </summary>
    public const string FieldTntId = "_:t";
    public const string FieldThirdPartyId = "_:3";
    /// <summary>
    /// Created: "&lt;epoch ms&gt;", or on a profile a bulk v2 row created "&lt;epoch ms&gt;:&lt;batchId&gt;:&lt;line&gt;" — the
    /// row that created it, recorded by the very HSETNX (or apply.lua step) that decided the creation, so a row
    /// re-applied after a crash can tell whether it was the one. Readers take the digits before the first ':' as the time.
    /// </summary>
    public const string FieldCreated = "_:c";
    public const string FieldModified = "_:m";

    /// <summary>
    /// One field per thirdPartyId linked to the profile ("_:l:&lt;thirdPartyId&gt;", empty value), written with the write
    /// that records the link on the profile, so a delete or a lifetime renewal finds every link from the profile alone.
    /// Profiles written before this bookkeeping have only <see cref="FieldThirdPartyId"/>, which counts as a link too.
    /// </summary>
    public const string FieldLinkPrefix = "_:l:";

    /// <summary>
    /// Written by earlier versions on a profile a bulk v2 row by thirdPartyId created: "&lt;batchId&gt;:&lt;line&gt;" of the
    /// row that made its link (not always the one whose HSETNX created it). No longer written (<see cref="FieldCreated"/>
    /// names the creating row); read only for a batch that crashed under such a version and resumes under this one.
    /// </summary>
    public const string FieldCreatedBy = "_:b";
    public const string AttributePrefix = "a:";
}
