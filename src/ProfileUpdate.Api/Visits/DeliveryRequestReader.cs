using System.Text.Json;
using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Api.Visits;

/// <summary>Reads a delivery request leniently (unknown fields ignored) but validates what it uses strictly.</summary>
public static class DeliveryRequestReader
{
    public const int MaxProfileParameters = 50;
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    public static Parsed<DeliveryRequest> Read(ReadOnlyMemory<byte> json, LimitsOptions limits)
    {
        try
        {
            return ReadCore(json, limits);
        }
        catch (InvalidOperationException)
        {
            // JsonDocument.Parse checks structure only; reading a string throws on invalid UTF-8 or an unpaired surrogate escape.
            return Parsed<DeliveryRequest>.Fail("The body contains a string that is not valid UTF-8 or holds an unpaired surrogate escape such as \\ud800; send valid UTF-8 JSON.");
        }
    }

    private static Parsed<DeliveryRequest> ReadCore(ReadOnlyMemory<byte> json, LimitsOptions limits)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException)
        {
            return Parsed<DeliveryRequest>.Fail("The body is not valid JSON (or nests deeper than 64 levels); send a Delivery API request object.");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return Parsed<DeliveryRequest>.Fail("The body must be a JSON object.");

            if (!TryGetObject(root, "context", out var context))
                return Parsed<DeliveryRequest>.Fail("context is required: send {\"context\":{\"channel\":\"web\"}} at least.");
            if (!context.TryGetProperty("channel", out var channel) || channel.ValueKind != JsonValueKind.String ||
                channel.GetString() is not ("web" or "mobile"))
                return Parsed<DeliveryRequest>.Fail("context.channel is required and must be \"web\" or \"mobile\".");

            string? tnt = null, thirdParty = null;
            if (TryGetObject(root, "id", out var id))
            {
                if (!TryGetOptionalString(id, "tntId", out tnt)) return Parsed<DeliveryRequest>.Fail("id.tntId must be a string.");
                if (!TryGetOptionalString(id, "thirdPartyId", out thirdParty)) return Parsed<DeliveryRequest>.Fail("id.thirdPartyId must be a string.");
                // An empty id is refused, as in the single update: read as absent, it would make an anonymous profile and
                // drop the link the caller meant to make. Leaving the field out (or null) is how a visit says "no id".
                if (tnt is { Length: 0 }) return Parsed<DeliveryRequest>.Fail(EmptyId("id.tntId"));
                if (thirdParty is { Length: 0 }) return Parsed<DeliveryRequest>.Fail(EmptyId("id.thirdPartyId"));
                if (tnt is not null && VisitorIds.ValidateTntId(tnt, "id.tntId") is { } tntError) return Parsed<DeliveryRequest>.Fail(tntError);
                if (thirdParty is not null && VisitorIds.ValidateThirdPartyId(thirdParty, "id.thirdPartyId") is { } tpError) return Parsed<DeliveryRequest>.Fail(tpError);
            }
            else if (root.TryGetProperty("id", out var badId) && badId.ValueKind is not JsonValueKind.Null)
            {
                return Parsed<DeliveryRequest>.Fail("id must be an object such as {\"tntId\":\"…\"} or {\"thirdPartyId\":\"…\"}.");
            }

            var attributes = new List<ProfileAttribute>();
            if (TryGetObject(root, "execute", out var execute) && TryGetObject(execute, "pageLoad", out var pageLoad) &&
                pageLoad.TryGetProperty("profileParameters", out var parameters) && parameters.ValueKind != JsonValueKind.Null)
            {
                if (parameters.ValueKind != JsonValueKind.Object)
                    return Parsed<DeliveryRequest>.Fail("execute.pageLoad.profileParameters must be an object of name → value.");
                var count = 0;
                var names = new HashSet<string>(StringComparer.Ordinal);
                foreach (var property in parameters.EnumerateObject())
                {
                    if (++count > MaxProfileParameters)
                        return Parsed<DeliveryRequest>.Fail($"execute.pageLoad.profileParameters may hold at most {MaxProfileParameters} entries.");
                    var name = property.Name;
                    var label = new AttributeLabel("Profile parameter", name);
                    if (name.StartsWith(ProfileAttributes.Prefix, StringComparison.Ordinal)) return Parsed<DeliveryRequest>.Fail(ProfileAttributes.Prefixed(label));
                    if (ProfileAttributes.CheckName(name, label, limits) is { } nameError) return Parsed<DeliveryRequest>.Fail(nameError);
                    if (!names.Add(name)) return Parsed<DeliveryRequest>.Fail(ProfileAttributes.Duplicate(label));
                    string? value = property.Value.ValueKind switch
                    {
                        JsonValueKind.String => property.Value.GetString(),
                        JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => property.Value.GetRawText(),
                        _ => null,
                    };
                    if (value is null)
                        return Parsed<DeliveryRequest>.Fail($"Profile parameter '{UrlEncodedParser.Sanitize(name)}' must be a string, number or boolean.");
                    if (value.Length == 0) continue; // as in the update API: empty never clears
                    if (ProfileAttributes.CheckValue(value, new AttributeLabel("profile parameter", name), limits) is { } valueError)
                        return Parsed<DeliveryRequest>.Fail(valueError);
                    attributes.Add(new ProfileAttribute(name, value));
                }
            }

            _ = TryGetOptionalString(root, "requestId", out var requestId);
            return Parsed<DeliveryRequest>.Ok(new DeliveryRequest(requestId, tnt, thirdParty, attributes));
        }
    }

    private static string EmptyId(string field) =>
        $"{field} must not be empty; leave it out (or send null) for a visitor without one.";

    private static bool TryGetObject(JsonElement parent, string name, out JsonElement value) =>
        parent.TryGetProperty(name, out value) && value.ValueKind == JsonValueKind.Object;

    private static bool TryGetOptionalString(JsonElement parent, string name, out string? value)
    {
        value = null;
        if (!parent.TryGetProperty(name, out var element) || element.ValueKind == JsonValueKind.Null) return true;
        if (element.ValueKind != JsonValueKind.String) return false;
        value = element.GetString();
        return true;
    }
}
