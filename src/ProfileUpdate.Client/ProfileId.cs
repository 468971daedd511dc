namespace ProfileUpdate.Client;

/// <summary>Which kind of visitor id a <see cref="ProfileId"/> holds.</summary>
public enum ProfileIdKind
{
    /// <summary>Target's visitor id (tntId, pcId, mboxPC).</summary>
    TntId,

    /// <summary>Your own id for the visitor (thirdPartyId, mbox3rdPartyId).</summary>
    ThirdPartyId,
}

/// <summary>A visitor id and its kind.</summary>
/// <param name="Kind">tntId or thirdPartyId.</param>
/// <param name="Value">The id as given.</param>
public readonly record struct ProfileId(ProfileIdKind Kind, string Value)
{
    /// <summary>A profile by Target's tntId.</summary>
    public static ProfileId Tnt(string tntId) => new(ProfileIdKind.TntId, tntId);

    /// <summary>A profile by your own thirdPartyId.</summary>
    public static ProfileId ThirdParty(string thirdPartyId) => new(ProfileIdKind.ThirdPartyId, thirdPartyId);

    /// <inheritdoc />
    public override string ToString() => $"{Kind}={Value}";
}
