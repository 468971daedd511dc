using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Api.Bulk;

/// <summary>The header line of a batch file: which id column, then the attribute names.</summary>
public sealed record BatchHeader(IdentityKind IdKind, IReadOnlyList<string> AttributeNames);
