namespace ProfileUpdate.Api.Clients;

/// <summary>
/// The client a request is for, resolved from where its endpoint group says (<see cref="ClientSource"/>), checked
/// against the configured clients and authenticated by <see cref="ClientFilter"/>. A handler that takes one runs only
/// after that filter: every endpoint of a client group must take it, which the filter checks at start-up.
/// </summary>
public sealed class ResolvedClient
{
    /// <summary>What binding hands the filter, which replaces it with the resolved client before the handler runs.</summary>
    internal static readonly ResolvedClient Unresolved = new(string.Empty);

    internal ResolvedClient(string code) => Code = code;

    /// <summary>The client code, valid and served by this service.</summary>
    public string Code { get; }

    /// <summary>
    /// Minimal APIs bind parameters before endpoint filters run, so binding cannot know the result of the checks; it
    /// hands over a placeholder and <see cref="ClientFilter"/> puts the real value in its place.
    /// </summary>
    public static ValueTask<ResolvedClient?> BindAsync(HttpContext context) => ValueTask.FromResult<ResolvedClient?>(Unresolved);

    /// <summary>
    /// The same placeholder, for a handler that binds its client from the route (<c>[FromRoute(Name = "client")]</c>):
    /// binding through <see cref="BindAsync"/> makes RequestDelegateFactory run the handler through one more async frame
    /// per request (EndpointFilterBenchmarks: 127 ns and 200 B), which the single-update endpoint, the hottest, avoids.
    /// The filter still resolves and checks the client; the route value is not used here.
    /// </summary>
    public static bool TryParse(string? value, out ResolvedClient result)
    {
        result = Unresolved;
        return true;
    }

    public override string ToString() => Code;
}
