using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Http;
using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Api.Updates;

/// <summary>A validated single profile update.</summary>
public sealed record UpdateRequest(VisitorIdentity Identity, IReadOnlyList<ProfileAttribute> Attributes);

/// <summary>The outcome of parsing: a request, or the 400 message a human can act on.</summary>
public readonly record struct ParseResult(UpdateRequest? Request, string? Error)
{
    public static ParseResult Fail(string error) => new(null, error);
}

/// <summary>Turns decoded query/body parameters into an <see cref="UpdateRequest"/> per spec §1.</summary>
public static class UpdateRequestParser
{
    public const string TntParameter = "mboxPC";
    public const string ThirdPartyParameter = "mbox3rdPartyId";
    public const string ProfilePrefix = "profile.";
    private static readonly string[] EcidParameters = ["mboxMCGVID", "marketingCloudVisitorId"];
    private const string IdentityHelp = "Identify the visitor with exactly one of mboxPC (Target's tntId) or mbox3rdPartyId (your own id).";

    /// <param name="query">Parameters of the query string.</param>
    /// <param name="body">Parameters of the form body (empty for GET).</param>
    public static ParseResult Parse(List<UrlParameter> query, List<UrlParameter> body, LimitsOptions limits)
    {
        string? tnt = null, thirdParty = null;
        var attributes = new List<ProfileAttribute>();
        var sawProfileParameter = false;
        HashSet<string>? seen = null;
        HashSet<string>? queryNames = null;

        if (body.Count > 0)
        {
            queryNames = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in query) queryNames.Add(p.Name);
        }

        for (var i = 0; i < query.Count + body.Count; i++)
        {
            var inBody = i >= query.Count;
            var (name, value) = inBody ? body[i - query.Count] : query[i];
            if (inBody && queryNames!.Contains(name))
                return ParseResult.Fail($"Parameter '{UrlEncodedParser.Sanitize(name)}' appears in both the query string and the body; send it once.");

            if (name.StartsWith(ProfilePrefix, StringComparison.Ordinal))
            {
                sawProfileParameter = true;
                var attributeName = name[ProfilePrefix.Length..];
                if (attributeName.Length == 0)
                    return ParseResult.Fail("A parameter 'profile.' has no attribute name; write profile.<name>=<value>.");
                if (TextRules.CountCharacters(attributeName) > limits.MaxNameLength)
                    return ParseResult.Fail($"Attribute name '{UrlEncodedParser.Sanitize(attributeName)}' is longer than {limits.MaxNameLength} characters.");
                if (TextRules.HasControlCharacter(attributeName, allowLineBreaks: false))
                    return ParseResult.Fail($"Attribute name '{UrlEncodedParser.Sanitize(attributeName)}' contains a control character.");
                if (!(seen ??= new HashSet<string>(StringComparer.Ordinal)).Add(name))
                    return ParseResult.Fail($"Parameter '{UrlEncodedParser.Sanitize(name)}' is given more than once; send each attribute once per request.");
                if (value.Length == 0) continue; // Adobe semantics: an empty value never clears an attribute.
                if (TextRules.CountCharacters(value) > limits.MaxValueLength)
                    return ParseResult.Fail($"The value of '{UrlEncodedParser.Sanitize(name)}' is longer than {limits.MaxValueLength} characters.");
                if (TextRules.HasControlCharacter(value, allowLineBreaks: true))
                    return ParseResult.Fail($"The value of '{UrlEncodedParser.Sanitize(name)}' contains a control character other than tab or line break.");
                attributes.Add(new ProfileAttribute(attributeName, value));
            }
            else if (name == TntParameter)
            {
                if (tnt is not null) return ParseResult.Fail($"mboxPC is given more than once. {IdentityHelp}");
                tnt = value;
            }
            else if (name == ThirdPartyParameter)
            {
                if (thirdParty is not null) return ParseResult.Fail($"mbox3rdPartyId is given more than once. {IdentityHelp}");
                thirdParty = value;
            }
            else if (Array.IndexOf(EcidParameters, name) >= 0)
            {
                return ParseResult.Fail($"{name} (Experience Cloud ID) is not accepted by this API. {IdentityHelp}");
            }
            // Any other parameter is ignored, as Adobe does.
        }

        if (tnt is null && thirdParty is null) return ParseResult.Fail($"No visitor id given. {IdentityHelp}");
        if (tnt is not null && thirdParty is not null) return ParseResult.Fail($"Both mboxPC and mbox3rdPartyId are given. {IdentityHelp}");

        VisitorIdentity identity;
        if (tnt is not null)
        {
            if (VisitorIds.ValidateTntId(tnt, TntParameter) is { } error) return ParseResult.Fail(error);
            identity = VisitorIdentity.Tnt(tnt);
        }
        else
        {
            if (VisitorIds.ValidateThirdPartyId(thirdParty!, ThirdPartyParameter) is { } error) return ParseResult.Fail(error);
            identity = VisitorIdentity.ThirdParty(thirdParty!);
        }

        if (!sawProfileParameter)
            return ParseResult.Fail("No profile attribute given; add at least one parameter profile.<name>=<value>.");
        return new ParseResult(new UpdateRequest(identity, attributes), null);
    }
}
