using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ProfileUpdate.IntegrationTests.Infrastructure;

/// <summary>
/// The real service on real Kestrel (loopback, free port) against a real store: the given Redis, or — with no
/// connection string — the embedded Garnet the service starts itself.
/// </summary>
public sealed class ServiceFactory : WebApplicationFactory<Program>
{
    private readonly string? _redis;
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;

    public ServiceFactory(string? redisConnectionString, IReadOnlyDictionary<string, string?>? settings = null,
        Action<IServiceCollection>? services = null)
    {
        _redis = redisConnectionString;
        _settings = settings ?? new Dictionary<string, string?>();
        _services = services;
        // Not UseKestrel(0): with a port it rewrites the server's addresses after the app has started binding them, which
        // fails now and then ("Addresses cannot be modified after the server has started"; dotnet/aspnetcore#67714).
        // The URL setting below gives Kestrel a free loopback port before it starts instead.
        UseKestrel();
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseUrls("http://127.0.0.1:0");
        builder.ConfigureAppConfiguration(config =>
        {
            var values = new Dictionary<string, string?>(_settings) { ["ConnectionStrings:Redis"] = _redis };
            // Each service its own spool: at start-up a service resumes every batch in its spool, and another test's
            // batches are not this one's to resume.
            values.TryAdd("ProfileUpdate:Bulk:SpoolDirectory", SpoolDirectory);
            config.AddInMemoryCollection(values);
        });
        if (_services is not null) builder.ConfigureServices(_services);
    }

    /// <summary>This service's batch spool (a fresh temporary folder unless the settings name one).</summary>
    public string SpoolDirectory { get; } = Path.Combine(Path.GetTempPath(), "pu-spool-" + Guid.NewGuid().ToString("N"));

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && Directory.Exists(SpoolDirectory)) Directory.Delete(SpoolDirectory, recursive: true);
    }

    /// <summary>Where Kestrel listens (starts the server on first use).</summary>
    public Uri BaseAddress
    {
        get
        {
            StartServer();
            var addresses = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
            return new Uri(addresses.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal));
        }
    }

    /// <summary>An HttpClient to the Kestrel server (the server starts on first use).</summary>
    public HttpClient CreateHttpClient()
    {
        StartServer();
        return new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }
}

/// <summary>What a test class needs: a running service on some store.</summary>
public interface IServiceFixture
{
    string StoreName { get; }

    /// <summary>Null when the store is available, else why the tests skip.</summary>
    string? SkipReason { get; }

    HttpClient Client { get; }
}

/// <summary>The service on a real redis-server started for this fixture.</summary>
public sealed class RedisServiceFixture : IServiceFixture, IDisposable
{
    private readonly RedisServer _redis = new();
    private readonly ServiceFactory? _factory;

    public RedisServiceFixture()
    {
        if (!RedisServer.IsAvailable) return;
        _factory = new ServiceFactory(_redis.ConnectionString);
        Client = _factory.CreateHttpClient();
    }

    public string StoreName => "redis";

    public string? SkipReason => RedisServer.IsAvailable ? null : RedisServer.SkipReason;

    public HttpClient Client { get; } = null!;

    /// <summary>The service's container, for a test that drives a component (a repository) below the HTTP surface.</summary>
    public IServiceProvider Services => _factory!.Services;

    public void Dispose()
    {
        Client?.Dispose();
        _factory?.Dispose();
        _redis.Dispose();
    }
}

/// <summary>The service on its embedded store (no ConnectionStrings:Redis), exactly as a newcomer runs it.</summary>
public sealed class EmbeddedServiceFixture : IServiceFixture, IDisposable
{
    private readonly ServiceFactory _factory = new(redisConnectionString: null);

    public EmbeddedServiceFixture() => Client = _factory.CreateHttpClient();

    public string StoreName => "embedded";

    public string? SkipReason => null;

    public HttpClient Client { get; }

    public void Dispose()
    {
        Client.Dispose();
        _factory.Dispose();
    }
}
