namespace ProfileUpdate.Api.Configuration;

/// <summary>Everything under the <c>ProfileUpdate</c> configuration section (README lists every knob with its default).</summary>
public sealed class ProfileUpdateOptions
{
    public const string Section = "ProfileUpdate";

    /// <summary>Client code used when a request names none (visits without a client, the literal 'client' placeholder in a path).</summary>
    [RegularExpression(ClientCode.Pattern)]
    public string? DefaultClient { get; set; }

    [Required, ValidateObjectMembers] public LimitsOptions Limits { get; set; } = new();
    [Required, ValidateObjectMembers] public QuotaOptions Quota { get; set; } = new();
    [Required, ValidateObjectMembers] public BulkOptions Bulk { get; set; } = new();
    [Required, ValidateObjectMembers] public ApplierOptions Applier { get; set; } = new();
    [Required, ValidateObjectMembers] public ProfilesOptions Profiles { get; set; } = new();
    [Required, ValidateObjectMembers] public StoreOptions Store { get; set; } = new();
    [Required, ValidateObjectMembers] public ChangesOptions Changes { get; set; } = new();

    /// <summary>Per-client settings; when any client is configured, only those client codes are served.</summary>
    public Dictionary<string, ClientOptions> Clients { get; set; } = new(StringComparer.Ordinal);
}
