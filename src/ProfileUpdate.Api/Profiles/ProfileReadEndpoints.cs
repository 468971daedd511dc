using Microsoft.AspNetCore.Http.Features;
using ProfileUpdate.Api.Clients;
using ProfileUpdate.Api.Http;

namespace ProfileUpdate.Api.Profiles;

/// <summary>Profile read API: what a 200 of the update API wrote is visible here at once.</summary>
public static class ProfileReadEndpoints
{
    public static IEndpointRouteBuilder MapProfileRead(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/rest/v1/profiles").WithTags("Profiles").ForClient(ClientSource.Query);
        group.MapGet("/{tntId}", ByTntIdAsync)
            .WithName("GetProfileByTntId")
            .WithSummary("Read a profile by tntId (mboxPC); the location hint may be given or left off");
        group.MapGet("/thirdPartyId/{thirdPartyId}", ByThirdPartyIdAsync)
            .WithName("GetProfileByThirdPartyId")
            .WithSummary("Read a profile by thirdPartyId (mbox3rdPartyId)");
        return app;
    }

    internal static async Task<Results<Ok<ProfileView>, ProblemHttpResult>> ByTntIdAsync(
        string tntId, ResolvedClient client, ProfileRepository repository)
    {
        if (VisitorIds.ValidateTntId(tntId, "tntId") is { } error) return Problems.BadRequest(error);
        var profile = await repository.ReadAsync(client.Code, tntId);
        return profile is null
            ? Problems.Create(StatusCodes.Status404NotFound, $"No profile found for client {client.Code} with mboxPC={tntId}")
            : TypedResults.Ok(View(client.Code, tntId, profile));
    }

    internal static async Task<Results<Ok<ProfileView>, ProblemHttpResult>> ByThirdPartyIdAsync(
        string thirdPartyId, ResolvedClient client, ProfileRepository repository, HttpContext context)
    {
        // Kestrel decodes a path but leaves %2F encoded, so the route value of .../crm%2F42 is the text "crm%2F42". The
        // id is decoded here from the raw request target instead, exactly once, so crm%2F42 means "crm/42" (invalid).
        var rawTarget = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (!string.IsNullOrEmpty(rawTarget))
        {
            var path = rawTarget.Split('?', 2)[0];
            var segment = path[(path.LastIndexOf('/') + 1)..];
            if (!UrlEncodedParser.TryDecodePathSegment(segment, out var decoded, out var decodeError))
                return Problems.BadRequest($"The thirdPartyId in the path {decodeError}.");
            thirdPartyId = decoded;
        }
        if (VisitorIds.ValidateThirdPartyId(thirdPartyId, "thirdPartyId") is { } error) return Problems.BadRequest(error);
        var tnt = await repository.ResolveThirdPartyAsync(client.Code, thirdPartyId);
        var profile = tnt is null ? null : await repository.ReadAsync(client.Code, tnt);
        return profile is null
            ? Problems.Create(StatusCodes.Status404NotFound, $"No profile found for client {client.Code} with third party id={thirdPartyId}")
            : TypedResults.Ok(View(client.Code, thirdPartyId, profile));
    }

    private static ProfileView View(string client, string visitorId, ProfileDocument profile)
    {
        var attributes = new Dictionary<string, AttributeView>(profile.Attributes.Count, StringComparer.Ordinal);
        foreach (var (name, (value, modifiedAt)) in profile.Attributes)
            attributes[name] = new AttributeView(value, ProfileRepository.FormatTimestamp(modifiedAt));
        return new ProfileView(client, visitorId, profile.TntId, profile.ThirdPartyId, ProfileRepository.FormatTimestamp(profile.ModifiedAt), attributes);
    }
}
