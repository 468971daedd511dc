using Microsoft.AspNetCore.Http.Features;
using ProfileUpdate.Api.Clients;
using ProfileUpdate.Api.Http;

namespace ProfileUpdate.Api.Profiles;

/// <summary>
/// Profile read and delete API: what a 200 of the update API wrote is visible here at once, and a 204 of a delete means
/// the profile, its links and everything keyed by it are gone from the store.
/// </summary>
public static class ProfileEndpoints
{
    public static IEndpointRouteBuilder MapProfiles(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/rest/v1/profiles").WithTags("Profiles").ForClient(ClientSource.Query);
        group.MapGet("/{tntId}", ByTntIdAsync)
            .WithName("GetProfileByTntId")
            .WithSummary("Read a profile by tntId (mboxPC); the location hint may be given or left off");
        group.MapGet("/thirdPartyId/{thirdPartyId}", ByThirdPartyIdAsync)
            .WithName("GetProfileByThirdPartyId")
            .WithSummary("Read a profile by thirdPartyId (mbox3rdPartyId)");
        group.MapDelete("/{tntId}", DeleteByTntIdAsync)
            .WithName("DeleteProfileByTntId")
            .WithSummary("Delete a profile by tntId (mboxPC): its attributes, every thirdPartyId linked to it, everything keyed by it");
        group.MapDelete("/thirdPartyId/{thirdPartyId}", DeleteByThirdPartyIdAsync)
            .WithName("DeleteProfileByThirdPartyId")
            .WithSummary("Delete the profile a thirdPartyId (mbox3rdPartyId) is linked to, with every id linked to it");
        return app;
    }

    /// <summary>What a delete needs, bound as one parameter.</summary>
    public readonly record struct DeleteServices(ProfileRepository Repository, LinkCache Links, ProfileMetrics Metrics);

    internal static async Task<Results<Ok<ProfileView>, ProblemHttpResult>> ByTntIdAsync(
        string tntId, ResolvedClient client, ProfileRepository repository)
    {
        if (TntIdFromPath(tntId) is { } error) return Problems.BadRequest(error);
        var profile = await repository.ReadAsync(client.Code, tntId);
        return profile is null ? NotFoundByTnt(client.Code, tntId) : TypedResults.Ok(View(client.Code, tntId, profile));
    }

    internal static async Task<Results<Ok<ProfileView>, ProblemHttpResult>> ByThirdPartyIdAsync(
        string thirdPartyId, ResolvedClient client, ProfileRepository repository, HttpContext context)
    {
        if (ThirdPartyIdFromPath(thirdPartyId, context, out var id) is { } error) return Problems.BadRequest(error);
        var tnt = await repository.ResolveThirdPartyAsync(client.Code, id);
        var profile = tnt is null ? null : await repository.ReadAsync(client.Code, tnt);
        return profile is null ? NotFoundByThirdParty(client.Code, id) : TypedResults.Ok(View(client.Code, id, profile));
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> DeleteByTntIdAsync(
        string tntId, ResolvedClient client, [AsParameters] DeleteServices services)
    {
        if (TntIdFromPath(tntId) is { } error) return Problems.BadRequest(error);
        var deletion = await services.Repository.DeleteAsync(client.Code, tntId);
        return Deleted(client.Code, deletion, services) ? TypedResults.NoContent() : NotFoundByTnt(client.Code, tntId);
    }

    internal static async Task<Results<NoContent, ProblemHttpResult>> DeleteByThirdPartyIdAsync(
        string thirdPartyId, ResolvedClient client, HttpContext context, [AsParameters] DeleteServices services)
    {
        if (ThirdPartyIdFromPath(thirdPartyId, context, out var id) is { } error) return Problems.BadRequest(error);
        var tnt = await services.Repository.ResolveForWriteAsync(client.Code, id);
        if (tnt is null)
        {
            services.Links.Forget(client.Code, id);
            return NotFoundByThirdParty(client.Code, id);
        }
        var deletion = await services.Repository.DeleteAsync(client.Code, tnt, id);
        return Deleted(client.Code, deletion, services) ? TypedResults.NoContent() : NotFoundByThirdParty(client.Code, id);
    }

    /// <summary>After a delete: this instance's link cache forgets the removed links, and the metric counts the profile.</summary>
    private static bool Deleted(string client, ProfileDeletion deletion, DeleteServices services)
    {
        foreach (var id in deletion.ThirdPartyIds) services.Links.Forget(client, id);
        if (deletion.Found) services.Metrics.Deleted(client, 1, bulk: false);
        return deletion.Found;
    }

    private static ProblemHttpResult NotFoundByTnt(string client, string tntId) =>
        Problems.Create(StatusCodes.Status404NotFound, $"No profile found for client {client} with mboxPC={tntId}");

    private static ProblemHttpResult NotFoundByThirdParty(string client, string thirdPartyId) =>
        Problems.Create(StatusCodes.Status404NotFound, $"No profile found for client {client} with third party id={thirdPartyId}");

    /// <summary>
    /// Why the tntId of a path is refused, or null. .../profiles/thirdPartyId/ (an empty thirdPartyId) and
    /// .../profiles/thirdPartyId reach the tntId route with the tntId "thirdPartyId" (routing ignores the trailing slash):
    /// that is a thirdPartyId left out, not a profile to look for.
    /// </summary>
    private static string? TntIdFromPath(string tntId) =>
        string.Equals(tntId, "thirdPartyId", StringComparison.OrdinalIgnoreCase)
            ? "The thirdPartyId is missing from the path: put it after /thirdPartyId/ (/rest/v1/profiles/thirdPartyId/{thirdPartyId}); it must not be empty."
            : VisitorIds.ValidateTntId(tntId, "tntId");

    /// <summary>
    /// The thirdPartyId of a path, decoded exactly once. Kestrel decodes a path but leaves %2F encoded, so the route value
    /// of .../crm%2F42 is the text "crm%2F42": the id is decoded here from the raw request target instead, so crm%2F42
    /// means "crm/42" (invalid). Returns the 400 message, or null with the valid id.
    /// </summary>
    private static string? ThirdPartyIdFromPath(string routeValue, HttpContext context, out string thirdPartyId)
    {
        thirdPartyId = routeValue;
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (!string.IsNullOrEmpty(rawTarget))
        {
            var path = rawTarget.Split('?', 2)[0];
            var segment = path[(path.LastIndexOf('/') + 1)..];
            if (!UrlEncodedParser.TryDecodePathSegment(segment, out var decoded, out var decodeError))
                return $"The thirdPartyId in the path {decodeError}.";
            thirdPartyId = decoded;
        }
        return VisitorIds.ValidateThirdPartyId(thirdPartyId, "thirdPartyId");
    }

    private static ProfileView View(string client, string visitorId, ProfileDocument profile)
    {
        var attributes = new Dictionary<string, AttributeView>(profile.Attributes.Count, StringComparer.Ordinal);
        foreach (var (name, (value, modifiedAt)) in profile.Attributes)
            attributes[name] = new AttributeView(value, ProfileRepository.FormatTimestamp(modifiedAt));
        return new ProfileView(client, visitorId, profile.TntId, profile.ThirdPartyId, ProfileRepository.FormatTimestamp(profile.ModifiedAt), attributes);
    }
}
