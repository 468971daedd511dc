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
            logger.ReadFrom.Configuration(builder.Configuration)
                .MinimumLevel.Information()
                // ASP.NET Core's "Request starting … ?query" lines carry the query string: keep hosting below Information.
                .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
                .MinimumLevel.Override("Microsoft.Hosting.Lifetime", LogEventLevel.Information)
                .MinimumLevel.Override("Garnet", LogEventLevel.Error)
                .MinimumLevel.Override("Tsavorite", LogEventLevel.Warning)
                .Enrich.FromLogContext();
            if (json) logger.WriteTo.Console(new RenderedCompactJsonFormatter());
            else logger.WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj} {RequestId}{NewLine}{Exception}");
        });
        return builder;
    }

    public static WebApplication UseServiceRequestLogging(this WebApplication app)
    {
        app.UseSerilogRequestLogging(options =>
        {
            // One line per request naming the route template, never the concrete path or query.
            options.MessageTemplate = "HTTP {RequestMethod} {RoutePattern} responded {StatusCode} in {Elapsed:0.000} ms";
            options.GetMessageTemplateProperties = (context, _, elapsed, status) =>
            [
                new("RequestMethod", new ScalarValue(context.Request.Method)),
                new("RoutePattern", new ScalarValue((context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "(unmatched)")),
                new("StatusCode", new ScalarValue(status)),
                new("Elapsed", new ScalarValue(elapsed)),
            ];
            options.EnrichDiagnosticContext = (diagnostics, context) => diagnostics.Set("RequestId", context.TraceIdentifier);
        });
        return app;
    }
}
