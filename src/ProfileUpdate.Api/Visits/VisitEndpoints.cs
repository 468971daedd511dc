using ProfileUpdate.Api.Clients;
using ProfileUpdate.Api.Http;
using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Api.Visits;

/// <summary>Visits: the minimal Delivery API that makes a visitor "seen".</summary>
public static class VisitEndpoints
{
    internal const int MaxBodyBytes = 65_536;

    public static IEndpointRouteBuilder MapVisits(this IEndpointRouteBuilder app)
    {
        // Visits carry no token (Adobe's delivery API is called from browsers and apps): the client is resolved, not authenticated.
        var group = app.MapGroup("/rest/v1").WithTags("Visits").ForClient(ClientSource.QueryOrHost, authenticate: false);
        group.MapPost("/delivery", DeliverAsync)
            .WithName("Deliver")
            .WithSummary("Record a visit: create the visitor's profile if needed and apply profile parameters")
            .WithDescription("A minimal Adobe Delivery API: creates the profile (generating a tntId when none is given), links " +
                "id.thirdPartyId to it and applies execute.pageLoad.profileParameters. No offers are served.");
        return app;
    }

    internal static async Task<Results<Ok<DeliveryResponse>, ProblemHttpResult>> DeliverAsync(
        ResolvedClient client,
        HttpContext context,
        ProfileRepository repository,
        LinkCache links,
        InteractiveLoad load,
        IOptions<ProfileUpdateOptions> options)
    {
        // Adobe's Delivery API requires a session id, and its SDKs always send one: a request without is not theirs.
        if (string.IsNullOrEmpty(context.Request.Query["sessionId"].ToString()))
            return Problems.BadRequest("The query parameter sessionId is required (any id of the visitor's session, e.g. sessionId=s1), as in Adobe's Delivery API.");
        if (context.Request.ContentType is not { } contentType ||
            !contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
            return Problems.Create(StatusCodes.Status415UnsupportedMediaType, "Send the visit as Content-Type: application/json.");
        var body = await RequestBody.ReadAtMostAsync(context.Request, MaxBodyBytes, context.RequestAborted);
        if (body is null)
            return Problems.Create(StatusCodes.Status413PayloadTooLarge, $"The request body is larger than {MaxBodyBytes} bytes.");

        // JSON must be UTF-8 (RFC 8259 §8.1) even in fields this service ignores.
        if (!System.Text.Unicode.Utf8.IsValid(body))
            return Problems.BadRequest("The body is not valid UTF-8; send valid UTF-8 JSON.");
        var parsed = DeliveryRequestReader.Read(body, options.Value.Limits);
        if (!parsed.Succeeded) return Problems.BadRequest(parsed.Error);
        var request = parsed.Value;

        var tnt = request.TntId ?? VisitorIds.NewTntId();
        var linked = false;
        if (request.ThirdPartyId is { } thirdParty)
            (tnt, linked) = await repository.LinkThirdPartyAsync(client.Code, thirdParty, tnt);
        var results = new WriteResult[1];
        await repository.WriteAsync(
            [new ProfileWrite(client.Code, tnt, request.ThirdPartyId, WriteMode.CreateIfMissing, request.ProfileParameters)], results);
        // The link existed but its profile did not (a delete ran between the two steps): the visit re-created the
        // profile, so it gets its link back unless another visit linked the id anew meanwhile; no profile is left
        // recording a link that does not exist.
        if (request.ThirdPartyId is { } relink && !linked && results[0] == WriteResult.Created)
            await repository.LinkThirdPartyAsync(client.Code, relink, tnt);
        // The link this visit made or confirmed replaces whatever this instance remembered for the id (it may name a
        // profile that expired or was deleted elsewhere), so the next single update goes straight to the right profile.
        else if (request.ThirdPartyId is { } seen && (linked || results[0] == WriteResult.Applied))
            links.Refresh(client.Code, seen, tnt);
        load.Applied(1); // visits are interactive traffic too: a running batch gives way to them as to single updates

        return TypedResults.Ok(new DeliveryResponse(
            200,
            request.RequestId ?? Guid.NewGuid().ToString("N"),
            client.Code,
            new DeliveryId(tnt, request.ThirdPartyId),
            context.Request.Host.Host,
            new DeliveryExecute(new DeliveryPageLoad())));
    }
}
