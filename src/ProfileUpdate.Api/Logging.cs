using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace ProfileUpdate.Api;

/// <summary>
/// Serilog: compact JSON to stdout in Production, readable text in Development. Profile data is personal data, so
/// nothing that can carry it is logged: no query strings, no bodies, no paths (a path can hold a thirdPartyId), no keys.
/// </summary>
public static class Logging
{
    public static WebApplicationBuilder AddServiceLogging(this WebApplicationBuilder builder)
    {
        var json = !builder.Environment.IsDevelopment();
        builder.Services.AddSerilog((services, logger) =>
        {
            // Code defaults first, then the Serilog configuration section, so that configuration can change them.
            logger.MinimumLevel.Information()
                // ASP.NET Core's "Request starting … ?query" lines carry the query string: keep hosting below Information.
                .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
                // Hosting opens a log scope and starts an Activity on every request whenever this category is enabled at
                // any level, though it never writes a line worth having here (request start/finish; the access log has
                // those). Off: measured ~0.8 KB of garbage and a visible share of CPU per update. Log lines written
                // during a request name its RequestId themselves.
                .MinimumLevel.Override("Microsoft.AspNetCore.Hosting.Diagnostics", LevelAlias.Off)
                .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Information)
                .MinimumLevel.Override("Garnet", LogEventLevel.Error)
                .MinimumLevel.Override("Tsavorite", LogEventLevel.Warning)
                .ReadFrom.Configuration(builder.Configuration)
                .Enrich.FromLogContext()
                // ASP.NET Core's hosting scope adds RequestPath to every event; a path can hold a thirdPartyId.
                .Enrich.With<DropPersonalProperties>();
            // Console writes are synchronous and serialised; the async wrapper moves them off the request path. Its buffer
            // is bounded: under a flood it drops log events rather than slow requests or grow memory.
            if (json) logger.WriteTo.Async(a => a.Console(new RenderedCompactJsonFormatter()), bufferSize: 10_000);
            else logger.WriteTo.Async(a => a.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}{NewLine}{Exception}"), bufferSize: 10_000);
        });
        return builder;
    }

    public static WebApplication UseServiceRequestLogging(this WebApplication app)
    {
        app.UseMiddleware<Http.RequestLogMiddleware>();
        return app;
    }
}

/// <summary>Removes properties that can carry personal data (paths hold thirdPartyIds; queries hold attribute values).</summary>
internal sealed class DropPersonalProperties : Serilog.Core.ILogEventEnricher
{
    private static readonly string[] Names = ["RequestPath", "Path", "QueryString", "Query"];

    public void Enrich(LogEvent logEvent, Serilog.Core.ILogEventPropertyFactory propertyFactory)
    {
        foreach (var name in Names) logEvent.RemovePropertyIfPresent(name);
    }
}
