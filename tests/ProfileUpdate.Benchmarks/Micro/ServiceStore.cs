using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Profiles;
using ProfileUpdate.Api.Quota;
using ProfileUpdate.Api.Store;
using ProfileUpdate.Api.Updates;

namespace ProfileUpdate.Benchmarks.Micro;

/// <summary>The service's store classes on one Redis, wired as ServiceComposition wires them (default options).</summary>
internal sealed class ServiceStore : IDisposable
{
    public ServiceStore(string connectionString)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Redis"] = connectionString })
            .Build();
        var options = Options.Create(new ProfileUpdateOptions());
        Connections = new StoreConnections(configuration, options, NullLoggerFactory.Instance);
        var scripts = new ScriptCatalog();
        Profiles = new ProfileRepository(Connections, scripts, TimeProvider.System, options, new ProfileLayout(Connections, options));
        Quota = new QuotaRepository(Connections, scripts, TimeProvider.System);
        QuotaApply = new QuotaApplyCall(Connections, scripts, Quota, Profiles, TimeProvider.System);
    }

    public StoreConnections Connections { get; }

    public ProfileRepository Profiles { get; }

    public QuotaRepository Quota { get; }

    public QuotaApplyCall QuotaApply { get; }

    public void Dispose() => Connections.Dispose();
}
