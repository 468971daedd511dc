using BenchmarkDotNet.Attributes;
using ProfileUpdate.Api.Bulk;
using ProfileUpdate.Api.Configuration;

namespace ProfileUpdate.Benchmarks.Micro;

/// <summary>
/// One data row of a bulk file, the inner loop of BulkProcessor: a 500,000-row upload runs it 500,000 times. The row is
/// the shape run-bulk.sh generates (thirdPartyId + 5 attributes, one percent-escape).
/// </summary>
[MemoryDiagnoser]
public class BulkRowBenchmarks
{
    private static readonly byte[] Row = "customer-0001234,u0001234%40ex.com,t2,c234,1234,2026-11-05"u8.ToArray();

    private readonly LimitsOptions _limits = new();
    private BatchHeader _header = null!;

    [GlobalSetup]
    public void Setup()
    {
        var (header, error) = BatchFileParser.ParseHeader("batch=thirdPartyId,email,tier,city,score,lastPurchase"u8, _limits);
        _header = header ?? throw new InvalidOperationException($"Benchmark header is refused: {error}");
        // Measure the success path, not the error path.
        if (BatchFileParser.ParseRow(Row, 2, _header, _limits).Error is { } rowError)
            throw new InvalidOperationException($"Benchmark row is refused: {rowError}");
    }

    [Benchmark]
    public BatchRow ParseRow() => BatchFileParser.ParseRow(Row, 2, _header, _limits);
}
