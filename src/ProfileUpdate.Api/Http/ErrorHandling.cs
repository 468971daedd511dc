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
        // Framework answers without a body (unmatched route 404, 405, binding 400) get one, in the same format.
        app.UseStatusCodePages();
        return app;
    }
}
