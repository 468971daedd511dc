namespace ProfileUpdate.Api.Profiles;

/// <summary>A profile as the read API shows it.</summary>
public sealed record ProfileView(
    string Client,
    string VisitorId,
    string TntId,
    string? ThirdPartyId,
    string ModifiedAt,
    IReadOnlyDictionary<string, AttributeView> ProfileAttributes);
