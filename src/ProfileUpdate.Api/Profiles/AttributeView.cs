namespace ProfileUpdate.Api.Profiles;

/// <summary>One attribute as the read API shows it.</summary>
public sealed record AttributeView(string Value, string ModifiedAt);
