using ProfileUpdate.Api.Bulk;
using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Tests.Bulk;

/// <summary>The spool file name carries what a batch resumed after a crash must apply with: version and emptyValues.</summary>
public sealed class BatchJobTests
{
    [Theory]
    [InlineData(false, EmptyValues.Ignore, "demo-x-1795449600054-50504229.v1.batch")]
    [InlineData(true, EmptyValues.Ignore, "demo-x-1795449600054-50504229.v2.batch")]
    [InlineData(false, EmptyValues.Remove, "demo-x-1795449600054-50504229.v1.remove.batch")]
    [InlineData(true, EmptyValues.Remove, "demo-x-1795449600054-50504229.v2.remove.batch")]
    public void A_spool_file_name_round_trips_version_and_empty_values(bool createMissing, EmptyValues emptyValues, string expected)
    {
        const string batchId = "demo-x-1795449600054-50504229";
        var name = BatchJob.FileName(batchId, createMissing, emptyValues);
        Assert.Equal(expected, name);

        var directory = Directory.CreateTempSubdirectory("pu-batchjob-");
        try
        {
            var path = Path.Combine(directory.FullName, name);
            File.WriteAllText(path, "batch=pcId,a\n");
            var job = BatchJob.FromFile(new FileInfo(path));
            Assert.NotNull(job);
            Assert.Equal(("demo-x", batchId, createMissing, emptyValues, true), (job.Client, job.BatchId, job.CreateMissing, job.EmptyValues, job.Resumed));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Theory]
    [InlineData("demo-1795449600054-50504229.remove.batch")]
    [InlineData("demo-1795449600054-50504229.v3.remove.batch")]
    [InlineData("demo-1795449600054-50504229.v1.keep.batch")]
    public void Other_names_are_not_batches(string name) =>
        Assert.Null(BatchJob.FromFile(new FileInfo(Path.Combine(Path.GetTempPath(), name))));
}
