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

    public override string ToString() => Code;
}
