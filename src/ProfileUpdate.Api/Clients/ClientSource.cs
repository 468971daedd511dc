namespace ProfileUpdate.Api.Clients;

/// <summary>
/// Where an endpoint group takes the client code from. Kept as endpoint metadata too, so the API documentation can
/// describe the <c>client</c> query parameter of the groups that read it.
/// </summary>
public enum ClientSource : byte
{
    /// <summary>The <c>{client}</c> route segment (update and bulk APIs).</summary>
    Route = 1,

    /// <summary>The <c>client</c> query parameter, required (profile reads).</summary>
    Query = 2,

    /// <summary>
    /// The <c>client</c> query parameter; else the leftmost label of a Host of three or more DNS labels (Adobe's Node.js
    /// SDK sends only imsOrgId and sessionId, to CLIENT.tt.omtrdc.net); else the configured default client (visits).
    /// </summary>
    QueryOrHost = 3,
}
