namespace ProfileUpdate.Api.Profiles;

/// <summary>One attribute to set; the name has no <c>profile.</c> prefix.</summary>
public readonly record struct ProfileAttribute(string Name, string Value);
