namespace ProfileUpdate.Api.Http;

/// <summary>
/// Endpoint metadata: this endpoint's errors are written as Adobe's bulk XML envelope
/// (<c>&lt;response&gt;&lt;success&gt;false&lt;/success&gt;…&lt;message&gt;</c>) instead of problem+json. Set once on a
/// route group with <see cref="WithXmlErrors"/>; <see cref="ErrorResponseWriter"/> reads it for every error, the
/// handlers' own and the framework's alike.
/// </summary>
public sealed class XmlErrorEnvelope
{
    public static readonly XmlErrorEnvelope Instance = new();

    private XmlErrorEnvelope() { }

    public const string ContentType = "application/xml; charset=utf-8";

    public static bool AppliesTo(HttpContext context) => RequestEndpoint.Of(context)?.Metadata.GetMetadata<XmlErrorEnvelope>() is not null;
}

public static class XmlErrorEnvelopeExtensions
{
    /// <summary>Every error of the group's endpoints is answered with the XML envelope.</summary>
    public static RouteGroupBuilder WithXmlErrors(this RouteGroupBuilder group) => group.WithMetadata(XmlErrorEnvelope.Instance);
}
