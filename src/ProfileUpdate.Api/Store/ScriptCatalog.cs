namespace ProfileUpdate.Api.Store;

/// <summary>All scripts of the service, read once at start-up.</summary>
public sealed class ScriptCatalog
{
    public RedisScript Apply { get; } = RedisScript.FromResource("apply");

    public RedisScript Quota { get; } = RedisScript.FromResource("quota");

    /// <summary>Counts a bulk submission in its minute (INCR and EXPIRE in one atomic call).</summary>
    public RedisScript CountSubmission { get; } = RedisScript.FromResource("count_submission");

    /// <summary>Records an applied chunk of a batch: counts, failed rows, checkpoint and lease in one step.</summary>
    public RedisScript RecordChunk { get; } = RedisScript.FromResource("record_chunk");

    /// <summary>The thirdPartyIds a profile's hash records as linked to it.</summary>
    public RedisScript Links { get; } = RedisScript.FromResource("links");

    /// <summary>Deletes a profile's hash and the links pointing to it, in one step where they share a slot.</summary>
    public RedisScript Delete { get; } = RedisScript.FromResource("delete");

    /// <summary>Removes one link if it still points to the given profile (Redis Cluster deletes).</summary>
    public RedisScript Unlink { get; } = RedisScript.FromResource("unlink");

    /// <summary>Quota then apply in one call (standalone Redis): see quota_apply.lua.</summary>
    public RedisScript QuotaApply { get; }

    public ScriptCatalog() => QuotaApply = RedisScript.Compose("quota_apply", [Quota, Apply], RedisScript.FromResource("quota_apply"));

    public IEnumerable<RedisScript> All => [Apply, Quota, QuotaApply, CountSubmission, RecordChunk, Links, Delete, Unlink];
}
