namespace ProfileUpdate.Api.Store;

/// <summary>
/// Key layout. Every key carries a hash tag (<c>{…}</c>) so that a script touching one profile stays in one slot, and
/// the same code runs on standalone Redis and Redis Cluster. The client code cannot contain ':', '{' or '}', so keys of
/// different clients never collide.
/// </summary>
public static class RedisKeys
{
    /// <summary>The profile hash, keyed by the tntId without its location hint.</summary>
    public static string Profile(string client, string tntBase) => $"pu:{{{client}:t:{tntBase}}}";

    /// <summary>thirdPartyId → the tntId (as first given) of the profile it is linked to.</summary>
    public static string ThirdParty(string client, string thirdPartyId) => $"pu:{{{client}:3p:{thirdPartyId}}}";

    /// <summary>
    /// The client's change log (a list, oldest first; docs/architecture.md "Change feed"): one element per applied change,
    /// "&lt;seq&gt;&lt;kind&gt;&lt;epoch ms&gt;&lt;flag&gt;&lt;body&gt;", appended by the script that applies the change.
    /// </summary>
    public static string ChangeLog(string client) => $"pu:c:{{{client}}}";

    /// <summary>
    /// Reserved hash fields; attribute fields are <see cref="AttributePrefix"/> + name, holding
    /// "&lt;modified epoch ms&gt;:&lt;value&gt;": an attribute's modification time travels with it in one field.
    /// </summary>
    public const string FieldTntId = "_:t";
    public const string FieldThirdPartyId = "_:3";
    public const string FieldCreated = "_:c";
    public const string FieldModified = "_:m";

    /// <summary>
    /// One field per thirdPartyId linked to the profile ("_:l:&lt;thirdPartyId&gt;", empty value), written with the write
    /// that records the link on the profile, so a delete or a lifetime renewal finds every link from the profile alone.
    /// Profiles written before this bookkeeping have only <see cref="FieldThirdPartyId"/>, which counts as a link too.
    /// </summary>
    public const string FieldLinkPrefix = "_:l:";

    /// <summary>On a profile a bulk v2 row created: "&lt;batchId&gt;:&lt;line&gt;", so a row re-applied after a crash can tell.</summary>
    public const string FieldCreatedBy = "_:b";
    public const string AttributePrefix = "a:";
}
