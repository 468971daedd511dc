namespace ProfileUpdate.Api.Http;

/// <summary>Registers and places the error pipeline: exception handlers, problem details, status-code bodies.</summary>
public static class ErrorHandling
{
    public static IServiceCollection AddErrorHandling(this IServiceCollection services)
    {
        // Ahead of AddProblemDetails' default writer, so it is the one every error is written by.
        services.AddSingleton<IProblemDetailsWriter, ErrorResponseWriter>();
        services.AddProblemDetails();
        services.AddExceptionHandler<MalformedRequestHandler>();
        services.AddExceptionHandler<StoreUnavailableHandler>();
        return services;
    }

    /// <summary>Inside the request log, so a request answered here is logged with the status it got.</summary>
    public static WebApplication UseErrorHandling(this WebApplication app)
    {
        app.UseExceptionHandler();
        // Framework answers without a body (unmatched route 404, 405, binding 400) get one, in the same format. Not for
        // an endpoint that writes every answer itself: the middleware is an async frame on every request it sees, and on
        // the single-update endpoint that is a cost per update with nothing to do (ErrorPipelineBenchmarks).
        app.UseWhen(context => context.GetEndpoint()?.Metadata.GetMetadata<WritesOwnErrors>() is null, branch => branch.UseStatusCodePages());
        return app;
    }
}

/// <summary>
/// Endpoint metadata: the endpoint writes a body for every answer it gives, errors included, and binds nothing the
/// framework could refuse with an empty 400 — so the status-code pages have nothing to add there and are not run.
/// Unhandled exceptions are still the exception handler's, whatever the endpoint.
/// </summary>
public sealed class WritesOwnErrors
{
    public static readonly WritesOwnErrors Instance = new();

    private WritesOwnErrors() { }
}
