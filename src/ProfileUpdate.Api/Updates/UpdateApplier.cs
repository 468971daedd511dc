using ProfileUpdate.Api.Profiles;
using ProfileUpdate.Api.Quota;
using ProfileUpdate.Api.Store;
using System.Runtime.InteropServices;
using StackExchange.Redis;

namespace ProfileUpdate.Api.Updates;

/// <summary>
/// Drains the <see cref="UpdateQueue"/> in batches and writes each batch with one script call per client (quota and
/// writes together; on a cluster, quota then one apply call per hash slot): group commit. Whatever arrives while a
/// batch is in flight forms the next batch, so the wait per update stays about one Redis round trip while throughput grows with load. On shutdown the queue is closed and drained before the
/// host exits, so every accepted request is answered.
/// </summary>
public sealed partial class UpdateApplier(
    UpdateQueue queue,
    ProfileRepository repository,
    LinkCache links,
    QuotaRepository quota,
    QuotaApplyCall quotaApply,
    QuotaLimits limits,
    LatestQuota latestQuota,
    StoreConnections store,
    UpdateMetrics metrics,
    InteractiveLoad load,
    StoreMetrics storeMetrics,
    IOptions<ProfileUpdateOptions> options,
    ILogger<UpdateApplier> logger) : BackgroundService
{
    private readonly int _maxBatch = options.Value.Applier.MaxBatchSize;
    private readonly int _maxInFlight = options.Value.Applier.MaxBatchesInFlight;
    private readonly int _retryAfter = options.Value.Store.RetryAfterSeconds;
    private readonly bool _quotaEnabled = limits.Enabled;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // No cancellation on the reads: the loop ends when the queue is completed and empty, never with work left in it.
        // Up to MaxBatchesInFlight batches overlap their round trips, so throughput is not capped at one batch per
        // round-trip time. Their relative order does not matter: every update in flight is unacknowledged, i.e.
        // concurrent with the others, and an update sent after another's 200 is always in a later batch.
        var reader = queue.Reader;
        var running = new List<Task>(_maxInFlight);
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            if (running.Count >= _maxInFlight)
            {
                await Task.WhenAny(running);
                running.RemoveAll(t => t.IsCompleted);
                continue;
            }
            var batch = new List<UpdateCommand>(Math.Min(_maxBatch, Math.Max(1, reader.Count)));
            while (batch.Count < _maxBatch && reader.TryRead(out var command)) batch.Add(command);
            if (batch.Count > 0) running.Add(RunBatchAsync(batch));
        }
        await Task.WhenAll(running);
    }

    private async Task RunBatchAsync(List<UpdateCommand> batch)
    {
        var timer = new BatchTimer();
        await ApplyAsync(batch);
        load.Applied(batch.Count);
        metrics.Batch(batch.Count, timer.Elapsed);
        metrics.Updates(batch);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        queue.Complete();
        if (ExecuteTask is { } running) await running.WaitAsync(cancellationToken);
        await base.StopAsync(cancellationToken);
    }

    /// <summary>Applies one batch and completes every command in it, whatever happens.</summary>
    internal async Task ApplyAsync(List<UpdateCommand> batch)
    {
        try
        {
            var plan = new BatchPlan(batch, _quotaEnabled);
            var restored = store.NextWritesRestore;
            try
            {
                await ApplyOnceAsync(plan);
            }
            catch (RedisConnectionException)
            {
                // The connection broke under this batch (the client drops a connection that answered nothing for a while,
                // e.g. while Redis paused writes, and re-opens it, still calling itself connected in between): once it is
                // restored (waited for within ReconnectGrace of the loss, so an outage still answers fast), the batch gets
                // one more try, so a store that has just recovered answers 200 instead of a last 503. A script call may
                // have run before the connection broke, its reply lost: the retry sends the very same calls (the plan),
                // a call whose reply arrived is not sent again, and each call that ran answers from its reply marker
                // instead of running again, so no update costs a unit twice or is refused for units it took itself, and
                // with the change feed on none is fed to the change log twice (quota_apply.lua's marker, or the apply
                // calls' own: see WritePlan). Commands the first try answered keep that answer (completion is
                // first-wins); one its request gave up on (timed out) is still the applier's to complete, so it counts
                // as open.
                if (batch.TrueForAll(command => command.CompletedByApplier)) return;
                await store.WaitForWritesRestoreAsync(restored);
                await ApplyOnceAsync(plan);
            }
        }
        catch (Exception ex)
        {
            // Store down, timed out or failing: nothing still open in this batch is acknowledged. Writes are idempotent
            // (attribute sets), so a client retrying after the 503 is safe even if part of the batch did reach the store.
            LogStoreFailure(logger, batch.Count, ex.GetType().Name);
            storeMetrics.Error("apply");
            foreach (var command in batch) command.Complete(new UpdateOutcome(UpdateStatus.StoreUnavailable, _retryAfter));
        }
    }

    /// <summary>One client's share of a batch: its commands' positions, and its quota call (null with the quota off).</summary>
    private sealed record ClientShare(List<int> Members, QuotaCall? Quota)
    {
        /// <summary>
        /// One-call path: the client's script call. A retry reuses a reply the first try received rather than sending the
        /// call again: its change-feed entries were counted then, and its decision is the first send's either way.
        /// </summary>
        public Task<(QuotaDecision Decision, WriteResult[] Results)>? Reply { get; set; }
    }

    /// <summary>
    /// What both tries of a batch share (see <see cref="ApplyAsync"/>): the commands by client with each client's quota
    /// call (whose id names its reply marker), and the thirdPartyIds once resolved for the one-call path, whose call's
    /// units must be the same on a retry for a stored reply to answer them.
    /// </summary>
    private sealed class BatchPlan
    {
        public BatchPlan(List<UpdateCommand> batch, bool quota)
        {
            Batch = batch;
            for (var i = 0; i < batch.Count; i++)
            {
                var client = batch[i].Client;
                ref var share = ref CollectionsMarshal.GetValueRefOrAddDefault(ByClient, client, out var known);
                if (!known) share = new ClientShare([], quota ? new QuotaCall(client) : null);
                share!.Members.Add(i);
            }
        }

        public List<UpdateCommand> Batch { get; }

        public Dictionary<string, ClientShare> ByClient { get; } = new(StringComparer.Ordinal);

        public (string?[] TntIds, bool[] Cached)? Resolved { get; set; }

        /// <summary>
        /// When the first try sent its quota calls: a retry's reply may be the first send's decision replayed from its
        /// marker, so it is remembered (LatestQuota) as of then, never as newer than a decision made in between.
        /// </summary>
        public long? Sent { get; set; }

        /// <summary>Two-step path: the writes once the quota is decided and the ids resolved; a retry sends these.</summary>
        public PlannedWrites? Writes { get; set; }

        /// <summary>The rewrite through stale remembered links, once looked up; a retry sends this.</summary>
        public PlannedRewrite? Rewrite { get; set; }
    }

    /// <summary>
    /// Writes of a batch planned for both tries: their calls (<see cref="WritePlan"/>: with the change feed on, each with a
    /// reply marker), the command each write belongs to, and per command of the batch its resolved tntId, whether it
    /// came from the link cache, and its quota state.
    /// </summary>
    private sealed record PlannedWrites(WritePlan Calls, List<int> Owners, string?[] TntIds, bool[] Cached, QuotaState?[] Quota);

    /// <summary>The rewrite through stale links, planned for both tries: its calls and the stale link of each write.</summary>
    private sealed record PlannedRewrite(WritePlan Calls, List<StaleLink> Owners);

    private async Task ApplyOnceAsync(BatchPlan plan)
    {
        // Not connected: wait (bounded) for the reconnect rather than fail fast in its gap.
        await store.WaitForWritesAsync();
        if (_quotaEnabled && !repository.IsCluster) await ApplyInOneCallPerClientAsync(plan);
        else await ApplyInTwoStepsAsync(plan);
    }

    /// <summary>
    /// Standalone Redis: thirdPartyIds resolved (from the link cache when known, else one MGET), then per client one
    /// script call that takes the quota and writes what it admitted — usually a single round trip per batch.
    /// </summary>
    private async Task ApplyInOneCallPerClientAsync(BatchPlan plan)
    {
        var batch = plan.Batch;
        // Kept for a retry: the units a call was sent with must be the ones its stored reply answers.
        var (tntIds, cached) = plan.Resolved ??= await ResolveAsync(batch);
        var calls = new List<(string Client, List<int> Members, ProfileWrite?[] Units, Task<(QuotaDecision, WriteResult[])> Call)>(plan.ByClient.Count);
        var sent = plan.Sent ??= latestQuota.Timestamp;
        foreach (var (client, share) in plan.ByClient)
        {
            var members = share.Members;
            var units = new ProfileWrite?[members.Count];
            for (var j = 0; j < members.Count; j++)
            {
                var command = batch[members[j]];
                if (tntIds[members[j]] is { } tnt) units[j] = Write(command, tnt);
            }
            if (share.Reply is not { IsCompletedSuccessfully: true })
                share.Reply = quotaApply.RunAsync(client, limits.Limit(client), units, share.Quota!);
            calls.Add((client, members, units, share.Reply));
        }
        await Task.WhenAll(calls.Select(c => c.Call));
        if (repository.Lifetime is not null) await RenewLinksAsync(calls.Select(c => (c.Units, c.Call.Result.Item2)));

        List<StaleLink>? stale = null;
        foreach (var (client, members, units, call) in calls)
        {
            var (decision, results) = await call;
            var admitted = Admit(batch, client, members, decision, sent);
            var k = 0;
            for (var j = 0; j < members.Count; j++)
            {
                if (admitted[j] is not { } state) continue;
                var i = members[j];
                var found = units[j] is not null && results[k++] != WriteResult.ProfileNotFound;
                if (!found && cached[i]) (stale ??= []).Add(new StaleLink(i, tntIds[i]!, state));
                else Finish(batch[i], found, state);
            }
        }
        if (stale is not null) await RetryStaleLinksAsync(plan, stale);
    }

    /// <summary>Profiles:Lifetime: the written profiles' links live as long as their hashes (apply.lua renewed those).</summary>
    private Task RenewLinksAsync(IEnumerable<(ProfileWrite?[] Units, WriteResult[] Results)> calls)
    {
        var writes = new List<ProfileWrite>();
        var results = new List<WriteResult>();
        foreach (var (units, written) in calls)
        {
            // The results are those of the admitted units that had a write, in order.
            var k = 0;
            foreach (var unit in units)
            {
                if (unit is null) continue;
                if (k >= written.Length) break;
                writes.Add(unit);
                results.Add(written[k++]);
            }
        }
        return repository.RenewLinksAsync(writes, results);
    }

    /// <summary>
    /// Redis Cluster (a client's quota and its profiles live in different slots), or quota off: quota calls and
    /// thirdPartyId lookups sent together in one round trip, then one apply script call per hash slot. A retry after the
    /// writes were planned sends those very calls again, the quota long decided: the ones whose reply arrived are not
    /// sent, and with the change feed on each carries a reply marker, so one that ran answers its first run's results and
    /// appends nothing twice (docs/architecture.md, "Retry after a broken connection"). With the feed off a call that ran
    /// writes the same values again, which is all it does.
    /// </summary>
    private async Task ApplyInTwoStepsAsync(BatchPlan plan)
    {
        var batch = plan.Batch;
        var planned = plan.Writes ??= await PlanWritesAsync(plan);
        var (calls, owners, tntIds, cached, quotaStates) = planned;
        var results = new WriteResult[owners.Count];
        await repository.WriteAsync(calls, results);
        List<StaleLink>? stale = null;
        for (var k = 0; k < owners.Count; k++)
        {
            var i = owners[k];
            var found = results[k] != WriteResult.ProfileNotFound;
            if (!found && cached[i]) (stale ??= []).Add(new StaleLink(i, tntIds[i]!, quotaStates[i]));
            else Finish(batch[i], found, quotaStates[i]);
        }
        if (stale is not null) await RetryStaleLinksAsync(plan, stale);
    }

    /// <summary>
    /// The two-step path's quota decisions and lookups, and the writes they leave: the commands refused (429) or whose
    /// visitor is unknown are completed here; the others get a write. On a retry before this finished, the quota calls
    /// answer from their reply markers.
    /// </summary>
    private async Task<PlannedWrites> PlanWritesAsync(BatchPlan plan)
    {
        var (batch, byClient) = (plan.Batch, plan.ByClient);
        var sent = plan.Sent ??= latestQuota.Timestamp;
        var decisions = byClient.ToDictionary(
            g => g.Key,
            g => g.Value.Quota is { } call
                ? quota.ConsumeAsync(g.Key, limits.Limit(g.Key), g.Value.Members.Count, call)
                : Task.FromResult(QuotaDecision.Unlimited(limits.Limit(g.Key), g.Value.Members.Count)),
            StringComparer.Ordinal);
        var resolving = ResolveAsync(batch);
        await Task.WhenAll(decisions.Values.Append<Task>(resolving));
        var (tntIds, cached) = await resolving;

        var admittedQuota = new QuotaState?[batch.Count];
        foreach (var (client, (members, _)) in byClient)
        {
            var admitted = Admit(batch, client, members, await decisions[client], sent);
            for (var j = 0; j < members.Count; j++) admittedQuota[members[j]] = admitted[j];
        }

        var writes = new List<ProfileWrite>(batch.Count);
        var owners = new List<int>(batch.Count);
        for (var i = 0; i < batch.Count; i++)
        {
            if (admittedQuota[i] is not { } state) continue;
            // A retry writes only what the first try left unanswered: an update answered already may have been followed
            // by a newer one for the same attributes (here or on another instance), which writing it again would undo.
            if (batch[i].CompletedByApplier) continue;
            if (tntIds[i] is not { } tnt)
            {
                batch[i].Complete(new UpdateOutcome(UpdateStatus.ProfileNotFound, Quota: state));
                continue;
            }
            writes.Add(Write(batch[i], tnt));
            owners.Add(i);
        }
        return new PlannedWrites(repository.PlanWrite(writes, markers: true), owners, tntIds, cached, admittedQuota);
    }

    /// <summary>An admitted command whose remembered link led to a profile that is gone.</summary>
    private readonly record struct StaleLink(int Index, string StaleTntId, QuotaState? Quota);

    /// <summary>
    /// A remembered thirdPartyId link whose profile was gone. The link may have been made anew since it was remembered
    /// (the profile expired or was deleted — on this instance or another — and a visit then linked the id to a new
    /// profile), so answering profile-not-found would lose an update the store could take. The link is forgotten, looked
    /// up in the store, and the update written to the profile it names now, in this batch, before anyone is answered.
    /// No second quota unit: the one taken for the update stands. Only when the store names the same profile (or none)
    /// is the visitor really unknown.
    /// </summary>
    private async Task RetryStaleLinksAsync(BatchPlan plan, List<StaleLink> stale)
    {
        // A retry after the rewrite was planned sends the same calls (with the change feed on, each with its reply marker).
        if ((plan.Rewrite ??= await PlanRewriteAsync(plan.Batch, stale)) is not { } rewrite) return;
        var results = new WriteResult[rewrite.Owners.Count];
        await repository.WriteAsync(rewrite.Calls, results); // renews the links' expiry too, under Profiles:Lifetime
        for (var k = 0; k < results.Length; k++)
            Finish(plan.Batch[rewrite.Owners[k].Index], results[k] != WriteResult.ProfileNotFound, rewrite.Owners[k].Quota);
    }

    /// <summary>The rewrite's lookups, and its writes (null when none is left): a visitor really unknown is answered here.</summary>
    private async Task<PlannedRewrite?> PlanRewriteAsync(List<UpdateCommand> batch, List<StaleLink> stale)
    {
        // On a retry before the rewrite was planned, those the first try answered stay answered (and unwritten: see
        // PlanWritesAsync).
        stale.RemoveAll(link => batch[link.Index].CompletedByApplier);
        if (stale.Count == 0) return null;
        var lookups = new List<(string, string)>(stale.Count);
        foreach (var link in stale)
        {
            var command = batch[link.Index];
            links.Forget(command.Client, command.Identity.Id);
            lookups.Add((command.Client, command.Identity.Id));
        }
        var resolved = await repository.ResolveThirdPartyAsync(lookups);
        var writes = new List<ProfileWrite>(stale.Count);
        var owners = new List<StaleLink>(stale.Count);
        for (var j = 0; j < stale.Count; j++)
        {
            var command = batch[stale[j].Index];
            if (resolved[j] is not { } tnt || tnt == stale[j].StaleTntId)
            {
                Finish(command, found: false, stale[j].Quota);
                continue;
            }
            links.Add(command.Client, command.Identity.Id, tnt);
            writes.Add(Write(command, tnt));
            owners.Add(stale[j]);
        }
        return writes.Count == 0 ? null : new PlannedRewrite(repository.PlanWrite(writes, markers: true), owners);
    }

    /// <summary>The update-only write of a command; the thirdPartyId it named goes to the change feed's entry.</summary>
    private static ProfileWrite Write(UpdateCommand command, string tnt) =>
        new(command.Client, tnt, null, WriteMode.UpdateOnly, command.Attributes, command.Removals)
        {
            NamedThirdPartyId = command.Identity.Kind == IdentityKind.ThirdPartyId ? command.Identity.Id : null,
        };

    /// <summary>Completes an admitted command whose write ran (or whose visitor is unknown).</summary>
    private static void Finish(UpdateCommand command, bool found, QuotaState? quotaState) =>
        command.Complete(new UpdateOutcome(found ? UpdateStatus.Applied : UpdateStatus.ProfileNotFound, Quota: quotaState));

    /// <summary>
    /// Applies one client's quota decision to its commands in batch order: the first ones admitted (each sees the count
    /// left right after its own unit), the rest completed with 429. Returns the quota state of each admitted command.
    /// The decision is remembered (<see cref="LatestQuota"/>): the RateLimit header of the client's refused requests and
    /// the quota gauge read it. <paramref name="sentAt"/> is when the quota call was sent.
    /// </summary>
    private QuotaState?[] Admit(List<UpdateCommand> batch, string client, List<int> members, QuotaDecision decision, long sentAt)
    {
        var limit = limits.Limit(client);
        latestQuota.Record(client, decision, sentAt);
        var admitted = new QuotaState?[members.Count];
        for (var j = 0; j < members.Count; j++)
        {
            if (j < decision.Admitted)
            {
                var remaining = Math.Max(0, decision.Remaining + (decision.Admitted - 1 - j));
                admitted[j] = new QuotaState(limit, remaining, decision.ResetSeconds);
            }
            else
            {
                batch[members[j]].Complete(new UpdateOutcome(UpdateStatus.QuotaExceeded, decision.RetryAfterSeconds,
                    new QuotaState(limit, 0, decision.ResetSeconds)));
            }
        }
        return admitted;
    }

    /// <summary>
    /// The tntId to write for each command (null where a thirdPartyId is linked to no profile), and whether it came from
    /// the link cache. Only ids the cache does not know are looked up; the links found are remembered.
    /// </summary>
    private async Task<(string?[] TntIds, bool[] Cached)> ResolveAsync(List<UpdateCommand> batch)
    {
        var tntIds = new string?[batch.Count];
        var cached = new bool[batch.Count];
        List<(string, string)>? lookups = null;
        List<int>? positions = null;
        for (var i = 0; i < batch.Count; i++)
        {
            var identity = batch[i].Identity;
            if (identity.Kind == IdentityKind.TntId)
            {
                tntIds[i] = identity.Id;
                continue;
            }
            if (links.TryGet(batch[i].Client, identity.Id, out var known))
            {
                tntIds[i] = known;
                cached[i] = true;
                continue;
            }
            (lookups ??= []).Add((batch[i].Client, identity.Id));
            (positions ??= []).Add(i);
        }
        if (lookups is null) return (tntIds, cached);

        var resolved = await repository.ResolveThirdPartyAsync(lookups);
        for (var j = 0; j < resolved.Length; j++)
        {
            tntIds[positions![j]] = resolved[j];
            if (resolved[j] is { } tnt) links.Add(lookups[j].Item1, lookups[j].Item2, tnt);
        }
        return (tntIds, cached);
    }

    // The exception's type only: StackExchange.Redis messages can name keys, which contain visitor ids.
    [LoggerMessage(Level = LogLevel.Warning, Message = "Profile store failed for a batch of {Count} updates ({Error}); answered 503")]
    private static partial void LogStoreFailure(ILogger logger, int count, string error);
}
