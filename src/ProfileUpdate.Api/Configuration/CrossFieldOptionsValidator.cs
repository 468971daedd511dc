namespace ProfileUpdate.Api.Configuration;

/// <summary>Rules the attributes cannot express: the per-client dictionary, and settings that depend on each other.</summary>
public sealed class CrossFieldOptionsValidator : IValidateOptions<ProfileUpdateOptions>
{
    public ValidateOptionsResult Validate(string? name, ProfileUpdateOptions options)
    {
        var failures = new List<string>();
        foreach (var (client, settings) in options.Clients)
        {
            if (!ClientCode.IsValid(client))
                failures.Add($"ProfileUpdate:Clients:{client} is not a valid client code (pattern {ClientCode.Pattern}).");
            if (settings.QuotaLimit is <= 0)
                failures.Add($"ProfileUpdate:Clients:{client}:QuotaLimit must be positive.");
            for (var i = 0; i < settings.Tokens.Count; i++)
            {
                // A short token is guessable; refuse it at start-up instead of serving an open door.
                if (string.IsNullOrWhiteSpace(settings.Tokens[i]) || settings.Tokens[i].Length < 16)
                    failures.Add($"ProfileUpdate:Clients:{client}:Tokens:{i} must be at least 16 characters.");
            }
        }
        if (options.DefaultClient is not null && options.Clients.Count > 0 && !options.Clients.ContainsKey(options.DefaultClient))
            failures.Add($"ProfileUpdate:DefaultClient '{options.DefaultClient}' is not one of the configured clients.");
        if (options.Store.ReconnectGrace >= options.Applier.RequestTimeout)
            failures.Add($"ProfileUpdate:Store:ReconnectGrace ({options.Store.ReconnectGrace}) must be less than " +
                $"ProfileUpdate:Applier:RequestTimeout ({options.Applier.RequestTimeout}): requests would time out while the applier still waits.");
        if (options.Profiles.Lifetime is { } lifetime && (lifetime < ProfilesOptions.MinLifetime || lifetime > ProfilesOptions.MaxLifetime))
            failures.Add($"ProfileUpdate:Profiles:Lifetime ({lifetime}) must be between {ProfilesOptions.MinLifetime} and " +
                $"{ProfilesOptions.MaxLifetime.TotalDays:0} days (e.g. 14.00:00:00), or unset for profiles that live until deleted.");
        if (options.Profiles.Partitions is < 1 or > ProfilesOptions.MaxPartitions || !int.IsPow2(options.Profiles.Partitions))
            failures.Add($"ProfileUpdate:Profiles:Partitions ({options.Profiles.Partitions}) must be a power of two from 1 to " +
                $"{ProfilesOptions.MaxPartitions} (default {ProfilesOptions.DefaultPartitions}), and the same for every instance of a store.");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
