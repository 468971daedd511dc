namespace ProfileUpdate.Api.Profiles;

/// <summary>How a request names its visitor. Values are persisted nowhere, but are explicit so logs and metrics stay stable.</summary>
public enum IdentityKind : byte
{
    TntId = 1,
    ThirdPartyId = 2,
}
