using System.Diagnostics;
using System.Globalization;
using ProfileUpdate.Api.Profiles;
using ProfileUpdate.Api.Quota;

namespace ProfileUpdate.Benchmarks.Micro;

/// <summary>
/// `store-load &lt;redis host:port&gt; &lt;seconds&gt; [batch] [in-flight] [visitors]`: sends Redis exactly the calls the
/// applier sends for single updates under load (QuotaApplyCall: quota and the update-only writes of one batch in one
/// script call), built by the service's own classes, for the seeded visitors (see <see cref="Seed"/>), with no HTTP in
/// front: <c>in-flight</c> loops (default 4, the applier's MaxBatchesInFlight) each send batches of <c>batch</c>
/// two-attribute updates (default 16, what the applier's batches hold under the run-load.sh load) back to back. Prints
/// the number of updates sent. run-redis-floor.sh measures Redis's CPU around it: the Redis side of an update with
/// nothing else running.
/// </summary>
public static class StoreLoad
{
    private const string Client = "bench";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length < 3 || !double.TryParse(args[2], CultureInfo.InvariantCulture, out var seconds) || seconds <= 0)
        {
            await Console.Error.WriteLineAsync("usage: store-load <redis host:port> <seconds> [batch] [in-flight] [visitors]");
            return 2;
        }
        var batch = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 16;
        var inFlight = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 4;
        var visitors = args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : 10_000;

        using var store = new ServiceStore(args[1]);

        var sent = 0L;
        var stopwatch = Stopwatch.StartNew();
        var loops = Enumerable.Range(0, inFlight).Select(async loop =>
        {
            var random = new Random(loop);
            var counter = 0;
            var units = new ProfileWrite?[batch];
            while (stopwatch.Elapsed.TotalSeconds < seconds)
            {
                for (var i = 0; i < batch; i++)
                {
                    // A seeded visitor, and the load script's two attributes with varying values.
                    counter++;
                    units[i] = new ProfileWrite(Client, Seed.TntId(random.Next(visitors)), null, WriteMode.UpdateOnly,
                        [new("counter", counter.ToString(CultureInfo.InvariantCulture)), new("color", "c" + (counter % 97).ToString(CultureInfo.InvariantCulture))]);
                }
                var (decision, results) = await store.QuotaApply.RunAsync(Client, long.MaxValue / 2, units, new QuotaCall(Client));
                if (decision.Admitted != batch || results.Any(r => r != WriteResult.Applied))
                    throw new InvalidOperationException("A call did not apply every update: is the store seeded (run-redis-floor.sh seeds it)?");
                Interlocked.Add(ref sent, batch);
            }
        }).ToArray();
        await Task.WhenAll(loops);
        Console.WriteLine(sent.ToString(CultureInfo.InvariantCulture));
        return 0;
    }
}
