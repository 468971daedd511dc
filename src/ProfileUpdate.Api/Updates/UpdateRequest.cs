using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Api.Updates;

/// <summary>A validated single profile update.</summary>
public sealed record UpdateRequest(VisitorIdentity Identity, IReadOnlyList<ProfileAttribute> Attributes);
