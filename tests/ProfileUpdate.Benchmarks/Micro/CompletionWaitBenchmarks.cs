using BenchmarkDotNet.Attributes;

namespace ProfileUpdate.Benchmarks.Micro;

/// <summary>
/// What the update endpoint's wait for its outcome costs per request: awaiting the command's completion as such, or
/// through <c>Task.WaitAsync(timeout, cancellationToken)</c> as the endpoint does (a timer and a cancellation
/// registration per request, for Applier:RequestTimeout and the client hanging up). The completion is pending when the
/// wait starts and completed afterwards, as the applier does; continuations run inline, as the command's do.
/// </summary>
[MemoryDiagnoser]
public class CompletionWaitBenchmarks
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);
    private readonly CancellationTokenSource _aborted = new();

    [Benchmark(Baseline = true)]
    public async Task<int> AwaitCompletion()
    {
        var completion = new TaskCompletionSource<int>();
        var waiting = Wait(completion.Task);
        completion.SetResult(1);
        return await waiting;

        static async Task<int> Wait(Task<int> task) => await task;
    }

    [Benchmark]
    public async Task<int> AwaitWithTimeoutAndCancellation()
    {
        var completion = new TaskCompletionSource<int>();
        var waiting = Wait(completion.Task, _aborted.Token);
        completion.SetResult(1);
        return await waiting;

        static async Task<int> Wait(Task<int> task, CancellationToken token) => await task.WaitAsync(Timeout, token);
    }

    [GlobalCleanup]
    public void Cleanup() => _aborted.Dispose();
}
