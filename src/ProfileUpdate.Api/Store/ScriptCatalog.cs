namespace ProfileUpdate.Api.Store;

/// <summary>
/// All scripts of the service, read once at start-up. With the change feed on (Changes:Enabled), apply.lua and
/// delete.lua are built with feed.lua in front, so they append each change to its client's log in the same call; off,
/// they get <c>local FEED = false</c> and run exactly as without the feature.
/// </summary>
public sealed class ScriptCatalog
{
    public RedisScript Apply { get; }

    public RedisScript Quota { get; } = RedisScript.FromResource("quota");

    /// <summary>Counts a bulk submission in its minute (INCR and EXPIRE in one atomic call).</summary>
    public RedisScript CountSubmission { get; } = RedisScript.FromResource("count_submission");

    /// <summary>Records an applied chunk of a batch: counts, failed rows, checkpoint and lease in one step.</summary>
    public RedisScript RecordChunk { get; } = RedisScript.FromResource("record_chunk");

    /// <summary>Renews a held batch's lease and the expiry of its records, unless the record is gone or complete.</summary>
    public RedisScript RenewLease { get; } = RedisScript.FromResource("renew_lease");

    /// <summary>The thirdPartyIds a profile's hash records as linked to it.</summary>
    public RedisScript Links { get; } = RedisScript.FromResource("links");

    /// <summary>Deletes a profile's hash and the links pointing to it, in one step where they share a slot.</summary>
    public RedisScript Delete { get; }

    /// <summary>A page of a client's change log (the change feed's reads).</summary>
    public RedisScript ChangesRead { get; } = RedisScript.FromResource("changes_read");

    /// <summary>Whether the write scripts append to the change log.</summary>
    public bool Feed { get; }

    /// <summary>Removes one link if it still points to the given profile (Redis Cluster deletes).</summary>
    public RedisScript Unlink { get; } = RedisScript.FromResource("unlink");

    /// <summary>Quota then apply in one call (standalone Redis): see quota_apply.lua.</summary>
    public RedisScript QuotaApply { get; }

    /// <summary>
    /// apply.lua with a reply marker (apply_marked.lua): the applier's apply calls with the change feed on, so a call sent
    /// again after its connection broke answers its first run's results instead of logging its changes twice.
    /// </summary>
    public RedisScript ApplyMarked { get; }

    /// <summary>The scripts without the change feed (benchmarks, tools).</summary>
    public ScriptCatalog() : this(null)
    {
    }

    public ScriptCatalog(IOptions<ProfileUpdateOptions>? options)
    {
        var changes = options?.Value.Changes;
        Feed = changes is { Enabled: true };
        var prefix = Feed
            ? RedisScript.FromResource("feed").Source + "\n"
            : "local FEED = false\n";
        Apply = RedisScript.WithPrefix("apply", prefix, RedisScript.FromResource("apply"));
        Delete = RedisScript.WithPrefix("delete", prefix, RedisScript.FromResource("delete"));
        QuotaApply = RedisScript.Compose("quota_apply", [Quota, Apply], RedisScript.FromResource("quota_apply"));
        ApplyMarked = RedisScript.Compose("apply_marked", [Apply], RedisScript.FromResource("apply_marked"));
    }

    public IEnumerable<RedisScript> All => [Apply, Quota, QuotaApply, ApplyMarked, CountSubmission, RecordChunk, RenewLease, Links, Delete, Unlink, ChangesRead];
}
