using System.Globalization;
using ProfileUpdate.Api.Store;
using StackExchange.Redis;

namespace ProfileUpdate.Api.Bulk;

/// <summary>
/// Batch status in Redis, kept for <c>ProfileUpdate:Bulk:StatusRetention</c>: one hash of counters and one list of the
/// first 1,000 failed rows, both under the batch's hash tag (one slot).
/// </summary>
public sealed class BatchStatusRepository(StoreConnections store, ScriptCatalog scripts, TimeProvider time)
{
    public const int MaxFailuresKept = 1000;

    /// <summary>A batch still "incomplete" with no progress for this long is reported "stuck" (its process died).</summary>
    public static readonly TimeSpan StuckAfter = TimeSpan.FromMinutes(5);

    // A minute's counter outlives its minute a little, for clocks of instances that disagree by seconds.
    private const int SubmissionKeySeconds = 120;

    private static string Key(string client, string batchId) => $"pu:b:{{{client}:{batchId}}}";

    private static string FailuresKey(string client, string batchId) => $"pu:bf:{{{client}:{batchId}}}";

    public async Task CreateAsync(string client, string batchId, long batchSize, TimeSpan retention)
    {
        var db = store.Database;
        var key = Key(client, batchId);
        var tx = db.CreateTransaction();
        _ = tx.HashSetAsync(key,
        [
            new("status", "incomplete"), new("batchSize", batchSize), new("consumed", 0), new("successful", 0),
            new("notFound", 0), new("failed", 0), new("created", 0), new("updatedAt", Now()),
        ]);
        _ = tx.KeyExpireAsync(key, retention);
        await tx.ExecuteAsync();
    }

    /// <summary>Adds one chunk's counts and failures (failures beyond the first 1,000 are counted, not listed).</summary>
    public async Task RecordAsync(string client, string batchId, BatchCounts delta, IReadOnlyList<BatchFailure> failures,
        long failuresAlreadyKept, bool complete, TimeSpan retention)
    {
        var db = store.Database;
        var key = Key(client, batchId);
        var failuresKey = FailuresKey(client, batchId);
        var tx = db.CreateTransaction();
        _ = tx.HashIncrementAsync(key, "consumed", delta.Consumed);
        _ = tx.HashIncrementAsync(key, "successful", delta.Successful);
        _ = tx.HashIncrementAsync(key, "notFound", delta.NotFound);
        _ = tx.HashIncrementAsync(key, "failed", delta.Failed);
        _ = tx.HashIncrementAsync(key, "created", delta.Created);
        _ = tx.HashSetAsync(key, [new("updatedAt", Now()), new("status", complete ? "complete" : "incomplete")]);
        var room = (int)Math.Max(0, MaxFailuresKept - failuresAlreadyKept);
        if (room > 0 && failures.Count > 0)
        {
            var entries = failures.Take(room)
                // Tab separates the stored fields, so a tab inside a (failed, hence arbitrary) id is replaced.
                .Select(f => (RedisValue)$"{f.Row.ToString(CultureInfo.InvariantCulture)}\t{f.Id?.Replace('\t', '\uFFFD') ?? string.Empty}\t{f.Message}")
                .ToArray();
            _ = tx.ListRightPushAsync(failuresKey, entries);
            _ = tx.KeyExpireAsync(failuresKey, retention);
        }
        await tx.ExecuteAsync();
    }

    public async Task<BatchStatusView?> ReadAsync(string client, string batchId, bool withFailures)
    {
        var db = store.Database;
        var fields = await db.HashGetAllAsync(Key(client, batchId));
        if (fields.Length == 0) return null;
        var map = fields.ToDictionary(f => (string)f.Name!, f => f.Value);
        long Get(string name) => map.TryGetValue(name, out var v) && v.TryParse(out long n) ? n : 0;

        var status = (string?)map.GetValueOrDefault("status") ?? "incomplete";
        if (status == "incomplete" && map.TryGetValue("updatedAt", out var updated) && updated.TryParse(out long updatedMs) &&
            time.GetUtcNow().ToUnixTimeMilliseconds() - updatedMs > StuckAfter.TotalMilliseconds)
            status = "stuck";

        var failures = new List<BatchFailure>();
        if (withFailures)
        {
            foreach (var entry in await db.ListRangeAsync(FailuresKey(client, batchId), 0, MaxFailuresKept - 1))
            {
                var parts = ((string)entry!).Split('\t', 3);
                failures.Add(new BatchFailure(long.Parse(parts[0], CultureInfo.InvariantCulture), parts[1].Length == 0 ? null : parts[1], parts[2]));
            }
        }
        return new BatchStatusView(batchId, status,
            new BatchCounts(Get("batchSize"), Get("consumed"), Get("successful"), Get("notFound"), Get("failed"), Get("created")), failures);
    }

    /// <summary>Counts one submission in the client's current minute; returns the count (fixed one-minute windows).</summary>
    public async Task<(long Count, int SecondsLeft)> CountSubmissionAsync(string client)
    {
        var now = time.GetUtcNow();
        var minute = now.ToUnixTimeSeconds() / 60;
        var key = $"pu:bs:{{{client}}}:{minute.ToString(CultureInfo.InvariantCulture)}";
        var count = (long)await scripts.CountSubmission.EvaluateAsync(store.Database, [key], [SubmissionKeySeconds]);
        return (count, (int)(60 - now.ToUnixTimeSeconds() % 60));
    }

    private long Now() => time.GetUtcNow().ToUnixTimeMilliseconds();
}
