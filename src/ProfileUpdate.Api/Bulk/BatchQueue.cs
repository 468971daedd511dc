using System.Collections.Concurrent;
using System.Threading.Channels;

namespace ProfileUpdate.Api.Bulk;

/// <summary>
/// This instance's accepted batches, in arrival order, until each is complete: what the runners take work from, what
/// the lease renewal covers, and what a caller asking to wait for a batch waits on. Its length is bounded by the spool
/// budget (every job holds its file's bytes), not by a count.
/// </summary>
public sealed class BatchQueue
{
    private readonly Channel<BatchJob> _channel = Channel.CreateUnbounded<BatchJob>(new UnboundedChannelOptions { SingleWriter = false });
    private readonly ConcurrentDictionary<string, (BatchJob Job, TaskCompletionSource Done)> _held = new(StringComparer.Ordinal);
    private int _running;

    public ChannelReader<BatchJob> Reader => _channel.Reader;

    /// <summary>Batches held: queued or running.</summary>
    public int Held => _held.Count;

    public int Running => Volatile.Read(ref _running);

    public IEnumerable<BatchJob> Jobs => _held.Values.Select(h => h.Job);

    public void Enqueue(BatchJob job)
    {
        _held.TryAdd(job.BatchId, (job, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));
        _channel.Writer.TryWrite(job);
    }

    /// <summary>Puts a job that could not finish now (store unavailable) back at the end of the line.</summary>
    public void Requeue(BatchJob job) => _channel.Writer.TryWrite(job);

    public void Started() => Interlocked.Increment(ref _running);

    public void Stopped() => Interlocked.Decrement(ref _running);

    /// <summary>The batch is complete: it leaves the queue and its waiters are released.</summary>
    public void Completed(BatchJob job)
    {
        if (_held.TryRemove(job.BatchId, out var held)) held.Done.TrySetResult();
    }

    /// <summary>True when the batch completed within <paramref name="timeout"/> (or is not held here: nothing to wait for).</summary>
    public async Task<bool> WaitAsync(string batchId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (!_held.TryGetValue(batchId, out var held)) return true;
        try
        {
            await held.Done.Task.WaitAsync(timeout, cancellationToken);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
