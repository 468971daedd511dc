using BenchmarkDotNet.Running;

namespace ProfileUpdate.Benchmarks.Micro;

public static class Program
{
    /// <summary>Runs the benchmarks chosen by the command line (BenchmarkDotNet's own options: --filter, --job, ...), or `seed` (see <see cref="Seed"/>), or `store-load` (see <see cref="StoreLoad"/>).</summary>
    /// <returns>1 when any benchmark failed to build or run, so scripts and CI see the failure; BenchmarkDotNet itself exits 0.</returns>
    public static int Main(string[] args)
    {
        if (args is ["seed", ..]) return Seed.Run(args);
        if (args is ["store-load", ..]) return StoreLoad.RunAsync(args).GetAwaiter().GetResult();
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        var failed = summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success));
        return failed ? 1 : 0;
    }
}
