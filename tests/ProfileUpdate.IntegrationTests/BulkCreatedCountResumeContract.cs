using System.Globalization;
using System.Net;
using System.Text;
using System.Xml.Linq;
using Microsoft.Extensions.DependencyInjection;
using ProfileUpdate.Api.Bulk;
using ProfileUpdate.Api.Profiles;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// <c>profilesCreated</c> (docs/api.md §2) stays exact when a v2 batch is re-applied after a crash: a resumed row counts
/// a profile as created only when it was the row whose write created it — also when another batch created the same new
/// profiles at the same time, and for a batch by pcId. The crash is the state a killed instance leaves: the chunk's
/// writes in the store (made here with the very calls <see cref="BulkProcessor"/> makes), its status record still at the
/// checkpoint before them, its spool file in place; a service started on that spool resumes the batch.
/// </summary>
public abstract class BulkCreatedCountResumeContract
{
    private const int Rows = 40;
    private const string GoneOwner = "an-instance-gone";

    protected abstract string? SkipReason { get; }

    protected abstract string ConnectionString { get; }

    private ServiceFactory Service(bool feed, string? spool = null)
    {
        var settings = new Dictionary<string, string?>();
        if (feed) settings["ProfileUpdate:Changes:Enabled"] = "true";
        if (spool is not null) settings["ProfileUpdate:Bulk:SpoolDirectory"] = spool;
        return new ServiceFactory(ConnectionString, settings);
    }

    private static ProfileRepository Repository(ServiceFactory service) =>
        service.Services.GetRequiredKeyedService<ProfileRepository>(BulkProcessor.StoreLane);

    private static string BatchId(string client, int n) =>
        string.Create(CultureInfo.InvariantCulture, $"{client}-{DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}-{n:x8}");

    private static string[] Ids(string prefix) => [.. Enumerable.Range(0, Rows).Select(i => $"{prefix}-{i}")];

    /// <summary>A v2 file by thirdPartyId: one row per id (row i on line i + 2).</summary>
    private static string File(IEnumerable<string> ids, string tier) =>
        "batch=thirdPartyId,tier\n" + string.Concat(ids.Select(id => $"{id},{tier}\n"));

    /// <summary>The writes a v2 chunk by thirdPartyId makes for <paramref name="ids"/>, as BulkProcessor builds them.</summary>
    private static List<ProfileWrite> Writes(string client, IReadOnlyList<string> ids, IReadOnlyList<string> tntIds, string tier) =>
        [.. ids.Select((id, i) => new ProfileWrite(client, tntIds[i], id, WriteMode.CreateIfMissing, [new ProfileAttribute("tier", tier)])
        {
            NamedThirdPartyId = id,
        })];

    /// <summary>The writes of a crashed run's chunk, with each row's creation tag (rows on <paramref name="lines"/>).</summary>
    private static async Task<WriteResult[]> WriteAsCrashedRunAsync(ProfileRepository repository, string batchId, List<ProfileWrite> writes,
        IReadOnlyList<long> lines, bool knownNew)
    {
        var results = new WriteResult[writes.Count];
        await repository.UpsertAsync(writes, [.. writes.Select(_ => knownNew)], results, WriteStamp.At(TimeProvider.System),
            [.. lines.Select(line => BulkProcessor.CreationTag(batchId, line))]);
        return results;
    }

    private static long[] Lines(int from, int count) => [.. Enumerable.Range(from + 2, count).Select(l => (long)l)];

    private static async Task<XElement?> StatusAsync(HttpClient http, string client, string batchId)
    {
        using var response = await http.GetAsync($"/m2/{client}/v2/profile/batchStatus?batchId={batchId}&showDetails=true");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return XElement.Parse(await response.Content.ReadAsStringAsync());
    }

    private static async Task<XElement> CompleteAsync(HttpClient http, string client, string batchId)
    {
        XElement? status = null;
        await Eventually.WaitUntilAsync(async () => (status = await StatusAsync(http, client, batchId))?.Element("status")!.Value == "complete",
            TimeSpan.FromSeconds(60), $"batch {batchId} to complete");
        return status!;
    }

    private static long Count(XElement status, string name) => long.Parse(status.Element(name)!.Value, CultureInfo.InvariantCulture);

    /// <summary>A batch submitted and applied in full by a running service; its batch id.</summary>
    private static async Task<string> SubmitAsync(HttpClient http, string client, string file)
    {
        using var response = await Wire.PostBatchAndWaitAsync(http, $"/m2/{client}/v2/profile/batchUpdate", new StringContent(file, Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return XElement.Parse(await response.Content.ReadAsStringAsync()).Element("batchId")!.Value;
    }

    private static string NewSpool() => Directory.CreateTempSubdirectory("pu-created-resume-").FullName;

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)] // the change feed on: the rows go through apply.lua (mode 'cb')
    public async Task A_batch_that_made_the_links_and_resumes_after_a_crash_does_not_count_the_profiles_the_other_batch_created_first(bool feed)
    {
        Skip.If(SkipReason is not null, SkipReason);
        var client = Wire.NewClient();
        var ids = Ids("raced");
        var crashed = BatchId(client, 1);
        string other;
        var spool = NewSpool();
        await using (var first = Service(feed))
        {
            var repository = Repository(first);
            await first.Services.GetRequiredService<BatchStatusRepository>().CreateAsync(client, crashed, Rows, GoneOwner);
            // The crashed batch's chunk made every link...
            var links = await repository.LinkThirdPartyAsync(client, ids, [.. ids.Select(_ => VisitorIds.NewTntId())]);
            Assert.All(links, l => Assert.True(l.Linked));
            // ...the other batch resolved them and its writes reached the profiles first: it created them all...
            using var http = first.CreateHttpClient();
            other = await SubmitAsync(http, client, File(ids, "silver"));
            var otherStatus = await CompleteAsync(http, client, other);
            Assert.Equal((Rows, Rows), (Count(otherStatus, "successfulUpdates"), Count(otherStatus, "profilesCreated")));
            // ...then the crashed batch's writes landed (none created), and its instance died before recording them.
            var results = await WriteAsCrashedRunAsync(repository, crashed, Writes(client, ids, [.. links.Select(l => l.TntId)], "gold"),
                Lines(0, Rows), knownNew: true);
            Assert.All(results, r => Assert.Equal(WriteResult.Applied, r));
        }
        await System.IO.File.WriteAllTextAsync(Path.Combine(spool, BatchJob.FileName(crashed, BatchKind.CreateMissing)), File(ids, "gold"));

        await using (var resumed = Service(feed, spool))
        {
            using var http = resumed.CreateHttpClient();
            var status = await CompleteAsync(http, client, crashed);
            // The other batch counted every profile: the resumed one counts none of them again.
            Assert.Equal((Rows, 0), (Count(status, "successfulUpdates"), Count(status, "profilesCreated")));
            Assert.Equal(Rows, Count((await StatusAsync(http, client, other))!, "profilesCreated") + Count(status, "profilesCreated"));
            Assert.Equal("gold", Wire.Attribute((await Wire.ReadByThirdPartyAsync(http, client, ids[^1]))!.Value, "tier"));
        }
        Directory.Delete(spool, recursive: true);
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Two_batches_creating_the_same_profiles_on_an_instance_that_crashes_each_count_the_ones_their_rows_created(bool feed)
    {
        Skip.If(SkipReason is not null, SkipReason);
        var client = Wire.NewClient();
        var ids = Ids("both");
        const int half = Rows / 2;
        var linker = BatchId(client, 1); // makes every link
        var resolver = BatchId(client, 2); // resolves them, and creates the profiles of the ids the linker has not written yet
        var spool = NewSpool();
        await using (var first = Service(feed))
        {
            var repository = Repository(first);
            var statuses = first.Services.GetRequiredService<BatchStatusRepository>();
            await statuses.CreateAsync(client, linker, Rows, GoneOwner);
            await statuses.CreateAsync(client, resolver, Rows, GoneOwner);
            // The linker's first chunk: links and writes for the first half (it creates those profiles)...
            var early = await repository.LinkThirdPartyAsync(client, ids[..half], [.. ids[..half].Select(_ => VisitorIds.NewTntId())]);
            var results = await WriteAsCrashedRunAsync(repository, linker, Writes(client, ids[..half], [.. early.Select(l => l.TntId)], "gold"),
                Lines(0, half), knownNew: true);
            Assert.All(results, r => Assert.Equal(WriteResult.Created, r));
            // ...its second chunk's links, its writes not issued yet...
            var late = await repository.LinkThirdPartyAsync(client, ids[half..], [.. ids[half..].Select(_ => VisitorIds.NewTntId())]);
            Assert.All(late, l => Assert.True(l.Linked));
            // ...while the resolver's chunk finds every link made and writes: it creates the second half. Then the instance dies.
            var resolved = await repository.LinkThirdPartyAsync(client, ids, [.. ids.Select(_ => VisitorIds.NewTntId())]);
            Assert.All(resolved, l => Assert.False(l.Linked));
            results = await WriteAsCrashedRunAsync(repository, resolver, Writes(client, ids, [.. resolved.Select(l => l.TntId)], "silver"),
                Lines(0, Rows), knownNew: false);
            Assert.Equal([.. Enumerable.Repeat(WriteResult.Applied, half), .. Enumerable.Repeat(WriteResult.Created, Rows - half)], results);
        }
        await System.IO.File.WriteAllTextAsync(Path.Combine(spool, BatchJob.FileName(linker, BatchKind.CreateMissing)), File(ids, "gold"));
        await System.IO.File.WriteAllTextAsync(Path.Combine(spool, BatchJob.FileName(resolver, BatchKind.CreateMissing)), File(ids, "silver"));

        await using (var resumed = Service(feed, spool))
        {
            using var http = resumed.CreateHttpClient();
            var linked = await CompleteAsync(http, client, linker);
            var resolving = await CompleteAsync(http, client, resolver);
            Assert.Equal((Rows, half), (Count(linked, "successfulUpdates"), Count(linked, "profilesCreated")));
            Assert.Equal((Rows, Rows - half), (Count(resolving, "successfulUpdates"), Count(resolving, "profilesCreated")));
        }
        Directory.Delete(spool, recursive: true);
    }

    [SkippableFact]
    public async Task A_batch_that_crashed_under_a_version_tagging_profiles_apart_still_counts_its_creations_when_resumed()
    {
        Skip.If(SkipReason is not null, SkipReason);
        var client = Wire.NewClient();
        var ids = Ids("upgraded");
        var batchId = BatchId(client, 1);
        var spool = NewSpool();
        await using (var first = Service(feed: false))
        {
            var repository = Repository(first);
            await first.Services.GetRequiredService<BatchStatusRepository>().CreateAsync(client, batchId, Rows, GoneOwner);
            // What the earlier version left: its links, and profiles whose '_:c' is the bare time, the row in '_:b'.
            var links = await repository.LinkThirdPartyAsync(client, ids, [.. ids.Select(_ => VisitorIds.NewTntId())]);
            var db = first.Services.GetRequiredService<ProfileUpdate.Api.Store.StoreConnections>().Database;
            var ms = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            for (var i = 0; i < Rows; i++)
            {
                var key = repository.ProfileKey(new ProfileWrite(client, links[i].TntId, ids[i], WriteMode.CreateIfMissing, []));
                await db.HashSetAsync(key,
                [
                    new("_:m", ms), new("_:3", ids[i]), new("_:l:" + ids[i], ""), new("a:tier", $"{ms}:gold"), new("_:t", links[i].TntId),
                    new("_:b", BulkProcessor.CreationTag(batchId, i + 2)), new("_:c", ms),
                ]);
            }
        }
        await System.IO.File.WriteAllTextAsync(Path.Combine(spool, BatchJob.FileName(batchId, BatchKind.CreateMissing)), File(ids, "gold"));

        await using (var resumed = Service(feed: false, spool))
        {
            using var http = resumed.CreateHttpClient();
            var status = await CompleteAsync(http, client, batchId);
            Assert.Equal((Rows, Rows), (Count(status, "successfulUpdates"), Count(status, "profilesCreated")));
        }
        Directory.Delete(spool, recursive: true);
    }

    [SkippableTheory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_batch_by_pcId_re_applied_after_a_crash_counts_exactly_the_profiles_it_created(bool feed)
    {
        Skip.If(SkipReason is not null, SkipReason);
        var client = Wire.NewClient();
        var batchId = BatchId(client, 1);
        var fresh = Enumerable.Range(0, Rows).Select(_ => VisitorIds.NewTntId()).ToArray();
        var existing = VisitorIds.NewTntId();
        var removing = VisitorIds.NewTntId(); // its row has an empty cell: with emptyValues=remove, a write through apply.lua
        // Lines 2..Rows+1 create; then a profile a visit created, a second row for the first profile, and the removing row.
        var file = new StringBuilder("batch=pcId,tier,city\n");
        foreach (var tnt in fresh) file.Append(tnt).Append(",gold,Berlin\n");
        file.Append(existing).Append(",gold,Paris\n").Append(fresh[0]).Append(",platinum,Rome\n").Append(removing).Append(",gold,\n");
        var spool = NewSpool();
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        await using (var first = Service(feed))
        {
            using var http = first.CreateHttpClient();
            await Wire.VisitAsync(http, client, tntId: existing, parameters: new Dictionary<string, string> { ["tier"] = "bronze" });
            await first.Services.GetRequiredService<BatchStatusRepository>().CreateAsync(client, batchId, Rows + 3, GoneOwner);
            // The crashed run's chunk: every row written, in file order; the instance died before recording it.
            List<ProfileWrite> writes =
            [
                .. fresh.Select(t => new ProfileWrite(client, t, null, WriteMode.CreateIfMissing, [new("tier", "gold"), new("city", "Berlin")])),
                new(client, existing, null, WriteMode.CreateIfMissing, [new("tier", "gold"), new("city", "Paris")]),
                new(client, fresh[0], null, WriteMode.CreateIfMissing, [new("tier", "platinum"), new("city", "Rome")]),
                new(client, removing, null, WriteMode.CreateIfMissing, [new("tier", "gold")], ["city"]),
            ];
            var results = await WriteAsCrashedRunAsync(Repository(first), batchId, writes, Lines(0, writes.Count), knownNew: false);
            Assert.Equal([.. Enumerable.Repeat(WriteResult.Created, Rows), WriteResult.Applied, WriteResult.Applied, WriteResult.Created], results);
        }
        await System.IO.File.WriteAllTextAsync(Path.Combine(spool, BatchJob.FileName(batchId, BatchKind.CreateMissing, EmptyValues.Remove)),
            file.ToString());

        await using (var resumed = Service(feed, spool))
        {
            using var http = resumed.CreateHttpClient();
            var status = await CompleteAsync(http, client, batchId);
            Assert.Equal((Rows + 3, Rows + 1, 0), (Count(status, "successfulUpdates"), Count(status, "profilesCreated"), Count(status, "failedUpdates")));
            Assert.Equal("platinum", Wire.Attribute((await Wire.ReadByTntAsync(http, client, fresh[0]))!.Value, "tier"));
            Assert.Equal("gold", Wire.Attribute((await Wire.ReadByTntAsync(http, client, existing))!.Value, "tier"));

            // '_:c' names the row that created the profile after the time; reads still take the time alone.
            var repository = Repository(resumed);
            var created = await repository.ReadAsync(client, fresh[1]);
            Assert.InRange(created!.CreatedAt, before, DateTimeOffset.UtcNow);
            var visited = await repository.ReadAsync(client, existing);
            Assert.InRange(visited!.CreatedAt, before, created.CreatedAt);
        }
        Directory.Delete(spool, recursive: true);
    }
}

/// <summary>On a standalone redis-server of its own per test.</summary>
public sealed class BulkCreatedCountResumeOnRedis : BulkCreatedCountResumeContract, IDisposable
{
    private readonly RedisServer _redis = new();

    protected override string? SkipReason => RedisServer.IsAvailable ? null : RedisServer.SkipReason;

    protected override string ConnectionString => _redis.ConnectionString;

    public void Dispose() => _redis.Dispose();
}

/// <summary>On a 3-master Redis Cluster: every profile, link and status record in a slot of its own.</summary>
public sealed class BulkCreatedCountResumeOnCluster(RedisCluster cluster) : BulkCreatedCountResumeContract, IClassFixture<RedisCluster>
{
    protected override string? SkipReason => RedisCluster.IsAvailable ? null : RedisCluster.SkipReason;

    protected override string ConnectionString => cluster.ConnectionString;
}
