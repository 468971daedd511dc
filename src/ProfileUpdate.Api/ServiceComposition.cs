using Microsoft.AspNetCore.Server.Kestrel.Core;
using ProfileUpdate.Api.Bulk;
using ProfileUpdate.Api.Changes;
using ProfileUpdate.Api.Clients;
using ProfileUpdate.Api.Http;
using ProfileUpdate.Api.Profiles;
using ProfileUpdate.Api.Quota;
using ProfileUpdate.Api.Store;
using ProfileUpdate.Api.Updates;

namespace ProfileUpdate.Api;

/// <summary>Service registration for the profile update features.</summary>
public static class ServiceComposition
{
    public static IServiceCollection AddProfileUpdate(this IServiceCollection services)
    {
        // A misspelled setting (ProfileUpdate__Quotaa__Limit) would otherwise be ignored without a word, leaving the default in
        // force: the service refuses to start instead, naming the key it does not know.
        services.AddOptions<ProfileUpdateOptions>()
            .BindConfiguration(ProfileUpdateOptions.Section, binder => binder.ErrorOnUnknownConfiguration = true)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ProfileUpdateOptions>, ProfileUpdateOptionsValidator>();
        services.AddSingleton<IValidateOptions<ProfileUpdateOptions>, CrossFieldOptionsValidator>();
        services.AddSingleton(TimeProvider.System);
        services.AddErrorHandling();

        // Store
        services.AddSingleton<ScriptCatalog>();
        services.AddSingleton<StoreConnections>();
        services.AddSingleton<StoreMetrics>();
        services.AddSingleton<ProfileLayout>();
        services.AddSingleton<ChangeLogSignal>();
        // First of the hosted services: nothing writes before the store's key layout is known to match.
        services.AddHostedService<StoreLayoutCheck>();

        // Features
        services.AddSingleton<ClientDirectory>();
        services.AddHostedService<OpenModeWarning>();
        services.AddSingleton<ProfileRepository>();
        services.AddSingleton<LinkCache>();
        services.AddSingleton<ProfileMetrics>();
        services.AddSingleton<QuotaRepository>();
        services.AddSingleton<QuotaLimits>();
        services.AddSingleton<QuotaApplyCall>();
        services.AddSingleton<UpdateQueue>();
        services.AddSingleton<LatestQuota>();
        services.AddSingleton<UpdateMetrics>();
        services.AddSingleton<InteractiveLoad>();
        services.AddHostedService<UpdateApplier>();
        services.AddSingleton<BatchStatusRepository>();
        // Bulk writes go through the store's bulk connection, so they never queue ahead of single updates' scripts.
        services.AddKeyedSingleton(BulkProcessor.StoreLane, (provider, _) =>
            ActivatorUtilities.CreateInstance<ProfileRepository>(provider, provider.GetRequiredService<StoreConnections>().Bulk));
        services.AddSingleton<BulkProcessor>();
        services.AddSingleton<BulkMetrics>();
        services.AddSingleton<SpoolBudget>();
        services.AddSingleton<BatchQueue>();
        services.AddSingleton<BatchRunner>();
        services.AddHostedService(provider => provider.GetRequiredService<BatchRunner>());
        services.AddSingleton<ChangeLog>();
        services.AddSingleton<ChangeStreams>();
        return services;
    }

    /// <summary>
    /// Kestrel's own request-line limit (8 KB) would answer a long GET with a bare 414 before our endpoint sees it; it is
    /// raised so that the endpoint's 414, which names the limit, is what a client gets. Other limits harden against slow
    /// or oversized clients.
    /// </summary>
    public static WebApplicationBuilder ConfigureKestrelLimits(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            var limits = kestrel.Limits;
            limits.MaxRequestLineSize = 65_536;
            limits.MaxRequestHeadersTotalSize = 65_536;
            limits.MaxRequestHeaderCount = 100;
            // Small by default; the endpoints that take more raise it for their own requests (bulk: 50 MB).
            limits.MaxRequestBodySize = 1_048_576;
            limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 1024, gracePeriod: TimeSpan.FromSeconds(10));
            kestrel.AddServerHeader = false;
        });
        return builder;
    }
}
