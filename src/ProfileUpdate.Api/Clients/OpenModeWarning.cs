namespace ProfileUpdate.Api.Clients;

/// <summary>Says loudly at start-up when no client is configured, i.e. any client code is served without a token.</summary>
internal sealed class OpenModeWarning(IOptions<ProfileUpdateOptions> options, ILogger<OpenModeWarning> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Clients.Count == 0)
            logger.LogWarning("No clients are configured (ProfileUpdate:Clients): every valid client code is served without authentication. Configure clients and tokens before exposing this service.");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
