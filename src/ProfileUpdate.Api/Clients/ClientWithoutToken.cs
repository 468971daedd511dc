namespace ProfileUpdate.Api.Clients;

/// <summary>
/// Endpoint metadata: the group resolves and checks its client but never asks for a token (visits, which browsers and
/// apps call). Kept so the API documentation lists a 401 exactly where one can be answered.
/// </summary>
public sealed class ClientWithoutToken
{
    public static readonly ClientWithoutToken Instance = new();

    private ClientWithoutToken() { }
}
