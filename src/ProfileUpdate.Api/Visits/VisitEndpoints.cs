using System.Net;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Http;
using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Api.Visits;

public sealed record DeliveryId(string TntId, string? ThirdPartyId);

public sealed record DeliveryPageLoad;

public sealed record DeliveryExecute(DeliveryPageLoad PageLoad);

/// <summary>The answer Adobe's SDKs need to learn the visitor's id.</summary>
public sealed record DeliveryResponse(int Status, string RequestId, string Client, DeliveryId Id, string EdgeHost, DeliveryExecute Execute);

/// <summary>Visits: the minimal Delivery API that makes a visitor "seen" (spec §3).</summary>
public static class VisitEndpoints
{
    private const int MaxBodyBytes = 65_536;

    public static IEndpointRouteBuilder MapVisits(this IEndpointRouteBuilder app)
    {
        app.MapPost("/rest/v1/delivery", HandleAsync)
            .WithTags("Visits")
            .WithName("Deliver")
            .WithSummary("Record a visit: create the visitor's profile if needed and apply profile parameters")
            .WithDescription("A minimal Adobe Delivery API: creates the profile (generating a tntId when none is given), links " +
                "id.thirdPartyId to it and applies execute.pageLoad.profileParameters. No offers are served.");
        return app;
    }

    internal static async Task<Results<Ok<DeliveryResponse>, ProblemHttpResult>> HandleAsync(
        HttpContext context,
        ClientDirectory clients,
        ProfileRepository repository,
        IOptions<ProfileUpdateOptions> options,
        ILoggerFactory loggerFactory)
    {
        var client = ResolveClient(context.Request, options.Value.DefaultClient);
        if (client is null)
            return Problems.BadRequest("No client code: add the query parameter client=<your client code>.");
        if (clients.Check(client) is { } refusal) return Problems.Create(refusal.Status, refusal.Message);

        if (context.Request.ContentType is not { } contentType ||
            !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            return Problems.Create(StatusCodes.Status415UnsupportedMediaType, "Send the visit as Content-Type: application/json.");
        var body = await RequestBody.ReadAtMostAsync(context.Request, MaxBodyBytes, context.RequestAborted);
        if (body is null)
            return Problems.Create(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than {MaxBodyBytes} bytes.");

        // JSON must be UTF-8 (RFC 8259 §8.1) even in fields this service ignores.
        if (!System.Text.Unicode.Utf8.IsValid(body))
            return Problems.BadRequest("The body is not valid UTF-8; send valid UTF-8 JSON.");
        var (request, error) = DeliveryRequestReader.Read(body, options.Value.Limits);
        if (request is null) return Problems.BadRequest(error!);

        try
        {
            var tnt = request.TntId ?? VisitorIds.NewTntId();
            if (request.ThirdPartyId is { } thirdParty)
                (tnt, _) = await repository.LinkThirdPartyAsync(client, thirdParty, tnt);
            var results = new WriteResult[1];
            await repository.WriteAsync(
                [new ProfileWrite(client, tnt, request.ThirdPartyId, WriteMode.CreateIfMissing, request.ProfileParameters)], results);

            return TypedResults.Ok(new DeliveryResponse(
                200,
                request.RequestId ?? Guid.NewGuid().ToString("N"),
                client,
                new DeliveryId(tnt, request.ThirdPartyId),
                context.Request.Host.Host,
                new DeliveryExecute(new DeliveryPageLoad())));
        }
        catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException)
        {
            loggerFactory.CreateLogger(typeof(VisitEndpoints)).LogWarning("Profile store failed during a visit ({Error}, request {RequestId}); answered 503", ex.GetType().Name, context.TraceIdentifier);
            return Problems.Unavailable(context, options.Value.Applier.RetryAfterSeconds,
                "The profile store is unavailable; the visit was not recorded. Retry after the Retry-After interval.");
        }
    }

    /// <summary>
    /// The client code: the <c>client</c> query parameter; else the leftmost label of a Host of three or more DNS labels
    /// (Adobe's Node.js SDK sends only imsOrgId and sessionId, to CLIENT.tt.omtrdc.net); else the configured default.
    /// </summary>
    internal static string? ResolveClient(HttpRequest request, string? defaultClient)
    {
        if (request.Query.TryGetValue("client", out var fromQuery) && !string.IsNullOrEmpty(fromQuery.ToString()))
            return fromQuery.ToString();
        var host = request.Host.Host;
        if (!string.IsNullOrEmpty(host) && !IPAddress.TryParse(host.Trim('[', ']'), out _))
        {
            var labels = host.Split('.');
            if (labels.Length >= 3 && labels.All(l => l.Length > 0)) return labels[0];
        }
        return defaultClient;
    }
}
