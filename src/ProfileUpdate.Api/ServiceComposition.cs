using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using ProfileUpdate.Api.Bulk;
using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Operations;
using ProfileUpdate.Api.Profiles;
using ProfileUpdate.Api.Quota;
using ProfileUpdate.Api.Security;
using ProfileUpdate.Api.Store;
using ProfileUpdate.Api.Updates;

namespace ProfileUpdate.Api;

/// <summary>Service registration for the profile update features.</summary>
public static class ServiceComposition
{
    public static IServiceCollection AddProfileUpdate(this IServiceCollection services)
    {
        services.AddOptions<ProfileUpdateOptions>().BindConfiguration(ProfileUpdateOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ProfileUpdateOptions>, ProfileUpdateOptionsValidator>();
        services.AddSingleton<IValidateOptions<ProfileUpdateOptions>, CrossFieldOptionsValidator>();

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<ClientDirectory>();
        services.AddSingleton<ScriptCatalog>();
        services.AddSingleton<RedisStore>();
        services.AddSingleton<ProfileRepository>();
        services.AddSingleton<LinkCache>();
        services.AddSingleton<QuotaStore>();
        services.AddSingleton<ServiceMetrics>();
        services.AddSingleton<BatchStatusStore>();
        services.AddSingleton<BulkProcessor>();
        services.AddSingleton<UpdateQueue>();
        services.AddHostedService<UpdateApplier>();
        services.AddClientAccess();
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
