using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Api.Bulk;

/// <summary>One data row: either the profile write it asks for, or why it failed.</summary>
public readonly record struct BatchRow(long Line, string? Id, IReadOnlyList<ProfileAttribute>? Attributes, string? Error)
{
    public bool Failed => Error is not null;
}
