using ProfileUpdate.Api.Bulk;
using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Tests.Bulk;

/// <summary>The spool file name carries what a batch resumed after a crash must apply with: kind (v1, v2, erase) and emptyValues.</summary>
public sealed class BatchJobTests
{
    [Theory]
    [InlineData(BatchKind.UpdateExisting, EmptyValues.Ignore, "demo-x-1795449600054-50504229.v1.batch")]
    [InlineData(BatchKind.CreateMissing, EmptyValues.Ignore, "demo-x-1795449600054-50504229.v2.batch")]
    [InlineData(BatchKind.UpdateExisting, EmptyValues.Remove, "demo-x-1795449600054-50504229.v1.remove.batch")]
    [InlineData(BatchKind.CreateMissing, EmptyValues.Remove, "demo-x-1795449600054-50504229.v2.remove.batch")]
    [InlineData(BatchKind.Erase, EmptyValues.Ignore, "demo-x-1795449600054-50504229.erase.batch")]
    public void A_spool_file_name_round_trips_kind_and_empty_values(BatchKind kind, EmptyValues emptyValues, string expected)
    {
        const string batchId = "demo-x-1795449600054-50504229";
        var name = BatchJob.FileName(batchId, kind, emptyValues);
        Assert.Equal(expected, name);

        var directory = Directory.CreateTempSubdirectory("pu-batchjob-");
        try
        {
            var path = Path.Combine(directory.FullName, name);
            File.WriteAllText(path, "batch=pcId,a\n");
            var job = BatchJob.FromFile(new FileInfo(path));
            Assert.NotNull(job);
            Assert.Equal(("demo-x", batchId, kind, emptyValues, true), (job.Client, job.BatchId, job.Kind, job.EmptyValues, job.Resumed));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("demo-1795449600054-50504229.remove.batch")]
    [InlineData("demo-1795449600054-50504229.v3.remove.batch")]
    [InlineData("demo-1795449600054-50504229.v3.batch")]
    [InlineData("demo-1795449600054-50504229.v1.keep.batch")]
    public void Other_names_are_not_batches(string name) =>
        Assert.Null(BatchJob.FromFile(new FileInfo(Path.Combine(Path.GetTempPath(), name))));
}
