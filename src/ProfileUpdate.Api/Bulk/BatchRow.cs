using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Api.Bulk;

/// <summary>One data row: either the profile write it asks for, or why it failed.</summary>
/// <param name="Removals">Attributes whose cell is present but empty, in a batch sent with <c>emptyValues=remove</c>; else null.</param>
public readonly record struct BatchRow(long Line, string? Id, IReadOnlyList<ProfileAttribute>? Attributes, string? Error,
    IReadOnlyList<string>? Removals = null)
{
    public bool Failed => Error is not null;
}
