using System.Diagnostics.CodeAnalysis;

namespace ProfileUpdate.Api.Bulk;

/// <summary>
/// The bytes of every accepted batch not yet complete, running ones included, against <see cref="BulkOptions.MaxSpoolBytes"/>:
/// uploads reserve as they stream, so concurrent uploads can never together overrun the spool.
/// </summary>
public sealed class SpoolBudget(IOptions<ProfileUpdateOptions> options)
{
    private readonly long _max = options.Value.Bulk.MaxSpoolBytes;
    private long _used;

    public long Used => Volatile.Read(ref _used);

    [SuppressMessage("Naming", "CA1716", Justification = "Reserve is the word.")]
    public bool TryReserve(long bytes)
    {
        if (Interlocked.Add(ref _used, bytes) <= _max) return true;
        Interlocked.Add(ref _used, -bytes);
        return false;
    }

    /// <summary>Counts bytes already on disk (batches found in the spool at start-up), even past the maximum.</summary>
    public void Claim(long bytes) => Interlocked.Add(ref _used, bytes);

    public void Release(long bytes) => Interlocked.Add(ref _used, -bytes);
}
