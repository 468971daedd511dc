using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Api.Updates;

/// <summary>Turns decoded query/body parameters into an <see cref="UpdateRequest"/> (docs/api.md §1).</summary>
public static class UpdateRequestParser
{
    public const string TntParameter = "mboxPC";
    public const string ThirdPartyParameter = "mbox3rdPartyId";
    public const string ProfilePrefix = ProfileAttributes.Prefix;
    private static readonly string[] EcidParameters = ["mboxMCGVID", "marketingCloudVisitorId"];
    private const string GetBodyNotRead =
        " This GET came with a body, which is not read: send the parameters in the query string, or POST them as the form body.";
    private const string IdentityHelp = "Identify the visitor with exactly one of mboxPC (Target's tntId) or mbox3rdPartyId (your own id).";

    /// <param name="query">Parameters of the query string.</param>
    /// <param name="body">Parameters of the form body (empty for GET).</param>
    /// <param name="unreadBody">The request is a GET that came with a body, which is not read: a missing id or attribute
    /// may well be in it, so the refusal says so.</param>
    public static Parsed<UpdateRequest> Parse(List<UrlParameter> query, List<UrlParameter> body, LimitsOptions limits, bool unreadBody = false)
    {
        string? tnt = null, thirdParty = null;
        var attributes = new List<ProfileAttribute>(query.Count + body.Count); // one array, never regrown
        List<string>? empty = null; // names given with an empty value: removals when the request says emptyValues=remove
        string? emptyValues = null;
        var sawProfileParameter = false;
        HashSet<string>? seen = null; // attribute names so far, once there are too many to compare one by one
        HashSet<string>? queryNames = null;

        if (body.Count > 0)
        {
            queryNames = new HashSet<string>(StringComparer.Ordinal);
            foreach (var p in query) queryNames.Add(p.Name);
        }

        for (var i = 0; i < query.Count + body.Count; i++)
        {
            var inBody = i >= query.Count;
            var parameter = inBody ? body[i - query.Count] : query[i];
            var (name, value) = parameter;
            if (inBody && queryNames!.Contains(name))
                return Parsed<UpdateRequest>.Fail($"Parameter '{UrlEncodedParser.Sanitize(name)}' appears in both the query string and the body; send it once.");

            if (name.StartsWith(ProfilePrefix, StringComparison.Ordinal))
            {
                sawProfileParameter = true;
                var attributeName = name[ProfilePrefix.Length..];
                if (attributeName.Length == 0)
                    return Parsed<UpdateRequest>.Fail("A parameter 'profile.' has no attribute name; write profile.<name>=<value>.");
                if (ProfileAttributes.CheckName(attributeName, new AttributeLabel("Attribute name", attributeName), limits) is { } nameError)
                    return Parsed<UpdateRequest>.Fail(nameError);
                if (IsRepeated(attributeName, attributes, empty, ref seen))
                    return Parsed<UpdateRequest>.Fail($"Parameter '{UrlEncodedParser.Sanitize(name)}' is given more than once; send each attribute once per request.");
                if (value.Length == 0)
                {
                    // Adobe semantics: an empty value never clears an attribute, unless emptyValues=remove (which may come later).
                    (empty ??= []).Add(attributeName);
                    continue;
                }
                if (ProfileAttributes.CheckValue(value, new AttributeLabel(string.Empty, name), limits) is { } valueError)
                    return Parsed<UpdateRequest>.Fail(valueError);
                attributes.Add(new ProfileAttribute(attributeName, value));
            }
            else if (name is TntParameter or ThirdPartyParameter && parameter.RawPlusInValue)
            {
                return Parsed<UpdateRequest>.Fail(VisitorIds.RawPlus(name));
            }
            else if (name == TntParameter)
            {
                if (tnt is not null) return Parsed<UpdateRequest>.Fail($"mboxPC is given more than once. {IdentityHelp}");
                tnt = value;
            }
            else if (name == ThirdPartyParameter)
            {
                if (thirdParty is not null) return Parsed<UpdateRequest>.Fail($"mbox3rdPartyId is given more than once. {IdentityHelp}");
                thirdParty = value;
            }
            else if (name == EmptyValuesParameter.Name)
            {
                if (emptyValues is not null) return Parsed<UpdateRequest>.Fail(EmptyValuesParameter.Repeated);
                emptyValues = value;
            }
            else if (Array.IndexOf(EcidParameters, name) >= 0)
            {
                return Parsed<UpdateRequest>.Fail($"{name} (Experience Cloud ID) is not accepted by this API. {IdentityHelp}");
            }
            // Any other parameter is ignored, as Adobe does.
        }

        if (tnt is null && thirdParty is null) return Parsed<UpdateRequest>.Fail($"No visitor id given. {IdentityHelp}" + (unreadBody ? GetBodyNotRead : ""));
        if (tnt is not null && thirdParty is not null) return Parsed<UpdateRequest>.Fail($"Both mboxPC and mbox3rdPartyId are given. {IdentityHelp}");

        VisitorIdentity identity;
        if (tnt is not null)
        {
            if (VisitorIds.ValidateTntId(tnt, TntParameter) is { } error) return Parsed<UpdateRequest>.Fail(error);
            identity = VisitorIdentity.Tnt(tnt);
        }
        else
        {
            if (VisitorIds.ValidateThirdPartyId(thirdParty!, ThirdPartyParameter) is { } error) return Parsed<UpdateRequest>.Fail(error);
            identity = VisitorIdentity.ThirdParty(thirdParty!);
        }

        var mode = EmptyValues.Ignore;
        if (emptyValues is not null)
        {
            if (EmptyValuesParameter.Parse(emptyValues, out var modeError) is not { } given) return Parsed<UpdateRequest>.Fail(modeError!);
            mode = given;
        }

        if (!sawProfileParameter)
            return Parsed<UpdateRequest>.Fail("No profile attribute given; add at least one parameter profile.<name>=<value>." + (unreadBody ? GetBodyNotRead : ""));
        var removals = mode == EmptyValues.Remove && empty is not null ? empty : UpdateRequest.NoRemovals;
        return Parsed<UpdateRequest>.Ok(new UpdateRequest(identity, attributes, removals));
    }

    /// <summary>
    /// Whether an attribute name was given before in this request (set or empty). An update usually names a handful, and
    /// comparing those one by one costs less than allocating and filling a set on every request (ParsingBenchmarks); past
    /// <see cref="CompareUpTo"/> names a set takes over, so a 60 KB body of attributes stays linear.
    /// </summary>
    private static bool IsRepeated(string name, List<ProfileAttribute> attributes, List<string>? empty, ref HashSet<string>? seen)
    {
        if (seen is null)
        {
            if (attributes.Count + (empty?.Count ?? 0) < CompareUpTo)
            {
                foreach (var attribute in attributes)
                    if (string.Equals(attribute.Name, name, StringComparison.Ordinal)) return true;
                return empty is not null && empty.Contains(name); // string equality is ordinal
            }
            seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var attribute in attributes) seen.Add(attribute.Name);
            if (empty is not null) seen.UnionWith(empty);
        }
        return !seen.Add(name);
    }

    private const int CompareUpTo = 8;
}
