using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;

namespace ProfileUpdate.Client;

/// <summary>Registers <see cref="ProfileUpdateClient"/>.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Registers the typed <see cref="ProfileUpdateClient"/> with retries on 429/503 (a 503 only for idempotent calls:
    /// not for a visit without ids, see <see cref="ProfileUpdateClient.VisitAsync"/>) that wait for the server's
    /// Retry-After (at most <see cref="ProfileUpdateClientOptions.MaxRetryAttempts"/> times; a Retry-After longer than
    /// <see cref="ProfileUpdateClientOptions.MaxRetryDelay"/> is not retried but surfaces at once), and the named client of the change stream
    /// (<see cref="ProfileUpdateClient.StreamClientName"/>), which has neither timeout nor retries of its own. The
    /// builder returned is the typed client's: handlers added to it do not apply to the stream.
    /// </summary>
    public static IHttpClientBuilder AddProfileUpdateClient(this IServiceCollection services, Action<ProfileUpdateClientOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        services.AddOptions<ProfileUpdateClientOptions>()
            .Configure(configure)
            .Validate(o => o.BaseAddress is { IsAbsoluteUri: true } address && (address.Scheme == Uri.UriSchemeHttp || address.Scheme == Uri.UriSchemeHttps),
                "ProfileUpdateClientOptions.BaseAddress must be an absolute http:// or https:// URI.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.Client), "ProfileUpdateClientOptions.Client (the client code) is required.")
            .Validate(o => o.MaxRetryAttempts >= 0, "ProfileUpdateClientOptions.MaxRetryAttempts must be 0 or more.")
            .Validate(o => o.StreamIdleTimeout > TimeSpan.Zero, "ProfileUpdateClientOptions.StreamIdleTimeout must be positive.")
            .Validate(o => o.MaxReconnectDelay >= TimeSpan.Zero, "ProfileUpdateClientOptions.MaxReconnectDelay must not be negative.");

        // The change stream's own client: no overall timeout and no resilience handler. A stream lasts as long as it is
        // followed, so a request timeout would cut every one; FollowChangesAsync reconnects (and honours Retry-After) itself.
        services.AddHttpClient(ProfileUpdateClient.StreamClientName, (sp, http) =>
        {
            var options = sp.GetRequiredService<IOptions<ProfileUpdateClientOptions>>().Value;
            http.BaseAddress = BaseOf(options.BaseAddress);
            http.Timeout = Timeout.InfiniteTimeSpan;
            if (!string.IsNullOrEmpty(options.Token))
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.Token);
        });

        var builder = services.AddHttpClient<ProfileUpdateClient>((sp, http) =>
        {
            var options = sp.GetRequiredService<IOptions<ProfileUpdateClientOptions>>().Value;
            http.BaseAddress = BaseOf(options.BaseAddress);
            http.Timeout = options.RequestTimeout;
            if (!string.IsNullOrEmpty(options.Token))
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.Token);
        });
        builder.AddResilienceHandler("profile-update", (pipeline, context) =>
        {
            var options = context.ServiceProvider.GetRequiredService<IOptions<ProfileUpdateClientOptions>>().Value;
            if (options.MaxRetryAttempts == 0) return;
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetryAttempts,
                // Only answers that guarantee nothing was applied. Not exceptions: a timeout or a dropped connection
                // mid-request may have been applied (a batch POST, an update), and a blind retry would apply it twice.
                // Nor when the server's Retry-After is longer than MaxRetryDelay (a used-up daily quota says hours): a
                // retry sooner than the server said would only be refused again, so the answer surfaces at once, its
                // RetryAfter telling the caller when to come back.
                // And not a 503 of a request that is not idempotent (a visit without ids creates a profile each time):
                // a 503 of the store means "not acknowledged" — the store may have applied it after the service stopped
                // waiting — so a retry could apply it twice. A 429 (a quota refusal) applies nothing, so it stays retried.
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result is { } r && IsRetryable(r.StatusCode)
                                                            && !(r.StatusCode == HttpStatusCode.ServiceUnavailable && IsNotIdempotent(args.Context))
                                                            && !(ProfileUpdateClient.RetryAfterOf(r) > options.MaxRetryDelay)),
                ShouldRetryAfterHeader = false,
                DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(RetryDelay(args.Outcome.Result, options)),
                OnRetry = args =>
                {
                    options.OnRetry?.Invoke(new RetryNotice(args.AttemptNumber + 1, (int)(args.Outcome.Result?.StatusCode ?? 0), args.RetryDelay));
                    return ValueTask.CompletedTask;
                },
            });
        });
        return builder;
    }

    /// <summary>
    /// The base address with its path ending in '/': relative paths resolve against the last '/', so a path prefix
    /// without one (<c>http://host/api</c>, a service behind a proxy) would be dropped and every call go to <c>/rest/…</c>.
    /// </summary>
    internal static Uri? BaseOf(Uri? address) =>
        address is { IsAbsoluteUri: true } && !address.AbsolutePath.EndsWith('/') ? new Uri(address.GetLeftPart(UriPartial.Path) + "/") : address;

    private static bool IsNotIdempotent(ResilienceContext context) =>
        context.GetRequestMessage()?.Options.TryGetValue(ProfileUpdateClient.NotIdempotent, out var marked) == true && marked;

    private static bool IsRetryable(HttpStatusCode status) => status is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable;

    /// <summary>
    /// The server's Retry-After (ShouldHandle let through only those up to MaxRetryDelay); one second when the server named
    /// none, at most MaxRetryDelay.
    /// </summary>
    private static TimeSpan RetryDelay(HttpResponseMessage? response, ProfileUpdateClientOptions options)
    {
        var delay = ProfileUpdateClient.RetryAfterOf(response) ?? TimeSpan.FromSeconds(1);
        return delay > options.MaxRetryDelay ? options.MaxRetryDelay : delay < TimeSpan.Zero ? TimeSpan.Zero : delay;
    }
}
