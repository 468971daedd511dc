using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Api.Updates;

/// <summary>A validated single profile update.</summary>
/// <param name="Removals">Attribute names to remove (<c>emptyValues=remove</c> and <c>profile.&lt;name&gt;=</c>); usually <see cref="NoRemovals"/>.</param>
public sealed record UpdateRequest(VisitorIdentity Identity, IReadOnlyList<ProfileAttribute> Attributes, IReadOnlyList<string> Removals)
{
    /// <summary>Shared by every request without removals: the hot path allocates nothing for them.</summary>
    public static readonly IReadOnlyList<string> NoRemovals = [];
}
