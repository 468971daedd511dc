namespace ProfileUpdate.Api.Profiles;

/// <summary>A visitor named by Target's tntId (mboxPC, echoed as given) or by the customer's thirdPartyId.</summary>
public readonly record struct VisitorIdentity(IdentityKind Kind, string Id)
{
    public static VisitorIdentity Tnt(string id) => new(IdentityKind.TntId, id);

    public static VisitorIdentity ThirdParty(string id) => new(IdentityKind.ThirdPartyId, id);
}
