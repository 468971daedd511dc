using Microsoft.AspNetCore.Http.HttpResults;
using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Http;
using ProfileUpdate.Api.Security;

namespace ProfileUpdate.Api.Profiles;

public sealed record AttributeView(string Value, string ModifiedAt);

/// <summary>A profile as the read API shows it (spec §4).</summary>
public sealed record ProfileView(
    string Client,
    string VisitorId,
    string TntId,
    string? ThirdPartyId,
    string ModifiedAt,
    IReadOnlyDictionary<string, AttributeView> ProfileAttributes);

/// <summary>Profile read API (spec §4): what a 200 of the update API wrote is visible here at once.</summary>
public static class ProfileReadEndpoints
{
    public static IEndpointRouteBuilder MapProfileRead(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/rest/v1/profiles").WithTags("Profiles").RequireClientAccess();
        group.MapGet("/{tntId}", ByTntIdAsync)
            .WithName("GetProfileByTntId")
            .WithSummary("Read a profile by tntId (mboxPC); the location hint may be given or left off");
        group.MapGet("/thirdPartyId/{thirdPartyId}", ByThirdPartyIdAsync)
            .WithName("GetProfileByThirdPartyId")
            .WithSummary("Read a profile by thirdPartyId (mbox3rdPartyId)");
        return app;
    }

    internal static Task<Results<Ok<ProfileView>, ProblemHttpResult>> ByTntIdAsync(
        string tntId, string? client, ClientDirectory clients, ProfileRepository repository, HttpContext context) =>
        ReadAsync(context, client, clients, tntId, "mboxPC", async c =>
            VisitorIds.ValidateTntId(tntId, "tntId") is { } error ? (null, error) : (await repository.ReadAsync(c, tntId), null));

    internal static Task<Results<Ok<ProfileView>, ProblemHttpResult>> ByThirdPartyIdAsync(
        string thirdPartyId, string? client, ClientDirectory clients, ProfileRepository repository, HttpContext context)
    {
        // Kestrel decodes a path but leaves %2F encoded, so the route value of .../crm%2F42 is the text "crm%2F42". The
        // id is decoded here from the raw request target instead, exactly once, so crm%2F42 means "crm/42" (invalid).
        var rawTarget = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()?.RawTarget;
        if (!string.IsNullOrEmpty(rawTarget))
        {
            var path = rawTarget.Split('?', 2)[0];
            var segment = path[(path.LastIndexOf('/') + 1)..];
            if (!UrlEncodedParser.TryDecodePathSegment(segment, out var decoded, out var decodeError))
                return Task.FromResult<Results<Ok<ProfileView>, ProblemHttpResult>>(Problems.BadRequest($"The thirdPartyId in the path {decodeError}."));
            thirdPartyId = decoded;
        }
        return ReadAsync(context, client, clients, thirdPartyId, "third party id", async c =>
        {
            if (VisitorIds.ValidateThirdPartyId(thirdPartyId, "thirdPartyId") is { } error) return (null, error);
            var tnt = await repository.ResolveThirdPartyAsync(c, thirdPartyId);
            return (tnt is null ? null : await repository.ReadAsync(c, tnt), null);
        });
    }

    private static async Task<Results<Ok<ProfileView>, ProblemHttpResult>> ReadAsync(
        HttpContext context,
        string? client,
        ClientDirectory clients,
        string visitorId,
        string idLabel,
        Func<string, Task<(ProfileDocument? Profile, string? Error)>> load)
    {
        if (string.IsNullOrEmpty(client)) return Problems.BadRequest("The query parameter client=<your client code> is required.");
        if (clients.Check(client) is { } refusal) return Problems.Create(refusal.Status, refusal.Message);

        ProfileDocument? profile;
        try
        {
            var (loaded, error) = await load(client);
            if (error is not null) return Problems.BadRequest(error);
            profile = loaded;
        }
        catch (Exception ex) when (ex is StackExchange.Redis.RedisException or TimeoutException)
        {
            var retryAfter = context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<ProfileUpdateOptions>>()
                .Value.Applier.RetryAfterSeconds;
            return Problems.Unavailable(context, retryAfter, "The profile store is unavailable; retry after the Retry-After interval.");
        }

        if (profile is null)
            return Problems.Create(StatusCodes.Status404NotFound,
                idLabel == "mboxPC"
                    ? $"No profile found for client {client} with mboxPC={visitorId}"
                    : $"No profile found for client {client} with third party id={visitorId}");

        var attributes = new Dictionary<string, AttributeView>(profile.Attributes.Count, StringComparer.Ordinal);
        foreach (var (name, (value, modifiedAt)) in profile.Attributes)
            attributes[name] = new AttributeView(value, ProfileRepository.FormatTimestamp(modifiedAt));
        return TypedResults.Ok(new ProfileView(
            client, visitorId, profile.TntId, profile.ThirdPartyId, ProfileRepository.FormatTimestamp(profile.ModifiedAt), attributes));
    }
}
