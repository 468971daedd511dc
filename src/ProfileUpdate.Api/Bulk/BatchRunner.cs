using ProfileUpdate.Api.Store;

namespace ProfileUpdate.Api.Bulk;

/// <summary>
/// Applies accepted batches in the background: <see cref="BulkOptions.MaxConcurrentBatches"/> at once, the rest waiting
/// in arrival order. At start-up it resumes every batch found in the spool directory from its checkpoint (a restart
/// after a crash, or after a shutdown that stopped a batch at a chunk boundary), without waiting for its lease to
/// expire: this instance owns its spool. While it holds batches it renews their leases, so a batch whose instance is
/// gone shows "stuck" after <see cref="BulkOptions.LeaseTimeout"/>. A batch the store fails during is retried after a
/// pause, from its checkpoint.
/// </summary>
public sealed partial class BatchRunner(
    BatchQueue queue,
    BulkProcessor processor,
    BatchStatusRepository statuses,
    SpoolBudget budget,
    IOptions<ProfileUpdateOptions> options,
    TimeProvider time,
    ILogger<BatchRunner> logger) : BackgroundService
{
    private readonly BulkOptions _options = options.Value.Bulk;

    /// <summary>This process, as the owner of the leases it renews.</summary>
    public string Owner { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Before requests are served: the spool's batches go first, in the order they were accepted.
        var spool = Directory.CreateDirectory(_options.SpoolDirectory);
        // Uploads cut off by a crash, or refused and not removed: no batch was accepted for them, so none is applied.
        var abandoned = 0;
        foreach (var part in spool.EnumerateFiles("*" + BatchJob.SpoolingSuffix))
        {
            part.Delete();
            abandoned++;
        }
        if (abandoned > 0) LogAbandonedRemoved(logger, abandoned, _options.SpoolDirectory);
        var found = spool.EnumerateFiles("*.batch").Concat(spool.EnumerateFiles("*" + BatchJob.AppliedExtension)).Select(BatchJob.FromFile).OfType<BatchJob>().OrderBy(j => j.BatchId, StringComparer.Ordinal).ToList();
        foreach (var job in found)
        {
            budget.Claim(job.Bytes);
            queue.Enqueue(job);
        }
        if (found.Count > 0) LogResuming(logger, found.Count, _options.SpoolDirectory);
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var runners = Enumerable.Range(0, _options.MaxConcurrentBatches).Select(_ => RunAsync(stoppingToken)).ToList();
        runners.Add(RenewLeasesAsync(stoppingToken));
        await Task.WhenAll(runners);
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var job in queue.Reader.ReadAllAsync(stoppingToken))
            {
                queue.Started();
                try
                {
                    await RunOneAsync(job, stoppingToken);
                }
                finally
                {
                    queue.Stopped();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown: held batches stay in the spool and resume at the next start.
        }
    }

    private async Task RunOneAsync(BatchJob job, CancellationToken stoppingToken)
    {
        var started = time.GetTimestamp();
        LogState(logger, LogLevel.Information, job.BatchId, job.Resumed ? "resumed" : "started");
        try
        {
            if (await processor.ApplyAsync(job, Owner, stoppingToken))
            {
                Finish(job);
                LogState(logger, LogLevel.Information, job.BatchId, $"complete in {time.GetElapsedTime(started).TotalSeconds:0.0} s");
            }
            else
            {
                LogState(logger, LogLevel.Information, job.BatchId, "stopped at a chunk boundary for shutdown; it resumes at the next start");
            }
        }
        catch (Exception ex) when (StoreFailures.IsUnavailable(ex))
        {
            // The exception's type only: the store client's messages can name keys. The checkpoint holds: retry from it.
            LogState(logger, LogLevel.Warning, job.BatchId, $"met a profile store failure ({ex.GetType().Name}); retrying from its checkpoint");
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(options.Value.Store.RetryAfterSeconds * 5), time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return; // shutdown: the batch resumes at the next start
            }
            queue.Requeue(Resumable(job));
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            // The spool file is gone or damaged: nothing can resume it. Its record shows "stuck" once the lease lapses,
            // which tells the client to resubmit.
            LogState(logger, LogLevel.Error, job.BatchId, $"cannot read its spool file ({ex.GetType().Name}); it will show as stuck");
            queue.Completed(job);
            budget.Release(job.Bytes);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A fault of this service: the batch leaves this run's queue (its lease lapses, so it shows stuck) but its
            // spool file stays for the next start to try again. The other batches go on.
            LogFailed(logger, job.BatchId, ex);
            queue.Completed(job);
        }
    }

    /// <summary>
    /// The job to retry after a store failure: under its <c>….applied</c> name once the processor renamed its file (the
    /// failure came at the record that completes the batch, after the last chunk's writes), so the retry finds it.
    /// </summary>
    private static BatchJob Resumable(BatchJob job)
    {
        var resumed = job with { Resumed = true };
        if (job.Applied) return resumed;
        var applied = BatchJob.AppliedPath(job.Path);
        return !File.Exists(job.Path) && File.Exists(applied) ? resumed with { Path = applied, Applied = true } : resumed;
    }

    private void Finish(BatchJob job)
    {
        try
        {
            // Under either name: the processor renamed it once every row was written (BatchJob.AppliedExtension).
            File.Delete(job.Path);
            File.Delete(BatchJob.AppliedPath(job.Path));
        }
        catch (IOException ex)
        {
            LogState(logger, LogLevel.Error, job.BatchId, $"cannot read its spool file ({ex.GetType().Name}); it will show as stuck");
        }
        budget.Release(job.Bytes);
        queue.Completed(job);
    }

    private async Task RenewLeasesAsync(CancellationToken stoppingToken)
    {
        var every = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMilliseconds(200).Ticks, _options.LeaseTimeout.Ticks / 4));
        using var timer = new PeriodicTimer(every, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                var held = queue.Jobs.Select(j => (j.Client, j.BatchId)).ToList();
                if (held.Count == 0) continue;
                try
                {
                    await statuses.RenewLeasesAsync(held, Owner);
                }
                catch (Exception ex) when (StoreFailures.IsUnavailable(ex))
                {
                    LogLeaseRenewalFailed(logger, held.Count, ex.GetType().Name);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed {Count} uploads never accepted (cut off or refused) from the spool {SpoolDirectory}")]
    private static partial void LogAbandonedRemoved(ILogger logger, int count, string spoolDirectory);

    [LoggerMessage(Level = LogLevel.Information, Message = "Resuming {Count} batches found in the spool {SpoolDirectory}")]
    private static partial void LogResuming(ILogger logger, int count, string spoolDirectory);

    // One line per state change of a batch; the exception's type only where one is named (store messages can name keys).
    [LoggerMessage(Message = "Batch {BatchId} {State}")]
    private static partial void LogState(ILogger logger, LogLevel level, string batchId, string state);

    [LoggerMessage(Level = LogLevel.Error, Message = "Batch {BatchId} failed; it shows as stuck and is retried at the next start")]
    private static partial void LogFailed(ILogger logger, string batchId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not renew the leases of {Count} batches ({Error}); retrying")]
    private static partial void LogLeaseRenewalFailed(ILogger logger, int count, string error);
}
