namespace ProfileUpdate.Api.Configuration;

/// <summary>Source-generated validation of the attribute rules on <see cref="ProfileUpdateOptions"/> and its nested sections.</summary>
[OptionsValidator]
public sealed partial class ProfileUpdateOptionsValidator : IValidateOptions<ProfileUpdateOptions>;
