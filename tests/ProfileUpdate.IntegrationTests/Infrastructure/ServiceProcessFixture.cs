namespace ProfileUpdate.IntegrationTests.Infrastructure;

/// <summary>
/// The service as a process of its own on a redis-server of its own, for tests that read /metrics. In one test process
/// every hosted service's metrics listener also sees the instruments of every other host with the same meter names, so
/// with a full suite's worth of in-process hosts a host's own series can be crowded out of its /metrics (seen in
/// fresh-clone runs: a counter the service had recorded never appeared). A process has only its own.
/// </summary>
public abstract class ServiceProcessFixture : IAsyncLifetime, IDisposable
{
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly string _spool = Directory.CreateTempSubdirectory("pu-process-spool-").FullName;
    private RedisServer? _redis;
    private ServiceProcess? _service;

    /// <param name="environment">Settings in environment-variable form (ProfileUpdate__Section__Key).</param>
    protected ServiceProcessFixture(IReadOnlyDictionary<string, string>? environment = null) =>
        _environment = environment ?? new Dictionary<string, string>();

    public string? SkipReason { get; } = RedisServer.IsAvailable ? null : RedisServer.SkipReason;

    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        if (SkipReason is not null) return;
        _redis = new RedisServer();
        var environment = new Dictionary<string, string>(_environment) { ["ProfileUpdate__Bulk__SpoolDirectory"] = _spool };
        _service = await ServiceProcess.StartAsync(_redis.ConnectionString, environment);
        Client = new HttpClient { BaseAddress = _service.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public Task DisposeAsync()
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        Client?.Dispose();
        _service?.Dispose();
        _redis?.Dispose();
        _service = null;
        _redis = null;
        if (Directory.Exists(_spool)) Directory.Delete(_spool, recursive: true);
        GC.SuppressFinalize(this);
    }
}

/// <summary>The service process with its default settings.</summary>
public sealed class DefaultServiceProcessFixture() : ServiceProcessFixture();
