using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace ProfileUpdate.Api.Configuration;

/// <summary>Everything under the <c>ProfileUpdate</c> configuration section (README lists every knob with its default).</summary>
public sealed class ProfileUpdateOptions
{
    public const string Section = "ProfileUpdate";

    /// <summary>Client code used by the delivery API when the request names none (spec §3).</summary>
    [RegularExpression(ClientCode.Pattern)]
    public string? DefaultClient { get; set; }

    [Required, ValidateObjectMembers]
    public LimitsOptions Limits { get; set; } = new();

    [Required, ValidateObjectMembers]
    public QuotaOptions Quota { get; set; } = new();

    [Required, ValidateObjectMembers]
    public BulkOptions Bulk { get; set; } = new();

    [Required, ValidateObjectMembers]
    public ApplierOptions Applier { get; set; } = new();

    [Required, ValidateObjectMembers]
    public EmbeddedStoreOptions Embedded { get; set; } = new();

    /// <summary>Per-client settings; when any client is configured, only those client codes are served.</summary>
    public Dictionary<string, ClientOptions> Clients { get; set; } = new(StringComparer.Ordinal);
}

public sealed class LimitsOptions
{
    [Range(256, 1_048_576)] public int MaxGetBytes { get; set; } = 8192;
    [Range(1024, 16_777_216)] public int MaxPostBytes { get; set; } = 61_440;
    [Range(1, 4096)] public int MaxNameLength { get; set; } = 128;
    [Range(1, 65_536)] public int MaxValueLength { get; set; } = 256;
    [Range(1024, 1_073_741_824)] public long MaxBatchBytes { get; set; } = 52_428_800;
    [Range(1, 10_000_000)] public int MaxBatchRows { get; set; } = 500_000;
}

public sealed class QuotaOptions
{
    [Range(1, long.MaxValue)] public long Limit { get; set; } = 1_000_000;

    /// <summary>Off only for measurements and trusted single-tenant set-ups: no quota call is made at all.</summary>
    public bool Enabled { get; set; } = true;
}

public sealed class BulkOptions
{
    [Range(1, 100_000)] public int SubmissionsPerMinute { get; set; } = 50;
    [Range(typeof(TimeSpan), "00:01:00", "365.00:00:00")] public TimeSpan StatusRetention { get; set; } = TimeSpan.FromDays(7);
}

/// <summary>The in-process channel and the background applier that drains it (group commit).</summary>
public sealed class ApplierOptions
{
    /// <summary>Updates waiting for the applier before new ones are refused with 503 (bounded memory).</summary>
    [Range(1, 1_000_000)] public int QueueCapacity { get; set; } = 10_000;

    /// <summary>Most updates written in one applier round trip.</summary>
    [Range(1, 10_000)] public int MaxBatchSize { get; set; } = 512;

    /// <summary>thirdPartyId → tntId links remembered in process (links never move), so known visitors skip the lookup; 0 turns it off.</summary>
    [Range(0, 10_000_000)] public int LinkCacheSize { get; set; } = 100_000;

    /// <summary>Applier batches whose store round trips may overlap (more lets throughput grow past one batch per round trip).</summary>
    [Range(1, 64)] public int MaxBatchesInFlight { get; set; } = 4;

    /// <summary>How long a request waits for its update to be durable before answering 503 (spec: no hanging requests).</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")] public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Seconds sent in Retry-After when the store is unavailable or the queue is full.</summary>
    [Range(1, 3600)] public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>
    /// How long after a store connection is lost a batch (or a profile read) still waits for it to come back before answering 503: bridges
    /// a reconnect (the client re-opens a connection it judged dead within about a second) without slowing 503s in an outage.
    /// Less than <see cref="RequestTimeout"/>; 0 answers 503 at once.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")] public TimeSpan ReconnectGrace { get; set; } = TimeSpan.FromSeconds(1.5);
}

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

public sealed class ClientOptions
{
    /// <summary>Overrides <see cref="QuotaOptions.Limit"/> for this client.</summary>
    [Range(1, long.MaxValue)] public long? QuotaLimit { get; set; }

    /// <summary>Bearer tokens that open this client; several so they can be rotated without downtime.</summary>
    public List<string> Tokens { get; set; } = [];
}
