namespace ProfileUpdate.Api.Configuration;

/// <summary>The embedded Redis-compatible store (Garnet) used when no <c>ConnectionStrings:Redis</c> is configured.</summary>
public sealed class EmbeddedStoreOptions
{
    /// <summary>Loopback port for the embedded store; 0 picks a free one.</summary>
    [Range(0, 65_535)] public int Port { get; set; }

    /// <summary>Garnet's main-log memory size (its <c>--memory</c> argument).</summary>
    [Required] public string Memory { get; set; } = "256m";

    /// <summary>Garnet's hash index size (its <c>--index</c> argument).</summary>
    [Required] public string Index { get; set; } = "16m";
}
