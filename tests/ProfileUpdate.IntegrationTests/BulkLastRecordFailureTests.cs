using System.Net;
using System.Text;
using System.Xml.Linq;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// The store fails exactly at the record that completes a batch — after its last chunk's writes, hence after its spool
/// file was renamed <c>….applied</c>. The runner retries the batch from its checkpoint after a pause, and the retry must
/// find the file under its new name: the batch completes, and no file is left in the spool.
/// </summary>
public sealed class BulkLastRecordFailureTests
{
    [SkippableFact]
    public async Task A_store_failure_at_the_completing_record_is_retried_and_the_batch_completes()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        using var redis = new RedisServer();
        await using var proxy = new ReplyDroppingProxy(redis.Port);
        await using var factory = new ServiceFactory(proxy.ConnectionString, new Dictionary<string, string?>
        {
            ["ProfileUpdate:Store:RetryAfterSeconds"] = "1", // the runner rests 5 s before the retry
        });
        using var http = factory.CreateHttpClient();
        var client = Wire.NewClient();
        // The failed row's id travels only in the record's arguments (a failed row is not written): the request that
        // carries it is the completing record, which the proxy drops, cutting the connection.
        var marker = "failmark-" + Guid.NewGuid().ToString("N")[..12];
        proxy.ArmDroppingRequest(Encoding.UTF8.GetBytes(marker));

        using var response = await http.PostAsync($"/m2/{client}/v2/profile/batchUpdate",
            new StringContent($"batch=thirdPartyId,tier\nok-1,gold\n{marker},gold,extra\n", Encoding.UTF8, "text/csv"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var batchId = XElement.Parse(await response.Content.ReadAsStringAsync()).Element("batchId")!.Value;

        await Eventually.WaitUntilAsync(async () =>
        {
            using var status = await http.GetAsync($"/m2/{client}/v2/profile/batchStatus?batchId={batchId}");
            return status.StatusCode == HttpStatusCode.OK &&
                   XElement.Parse(await status.Content.ReadAsStringAsync()).Element("status")?.Value == "complete";
        }, TimeSpan.FromSeconds(30), "the batch to complete after the store failed at its completing record");
        Assert.True(proxy.Tripped, "the proxy never dropped the completing record; the test proves nothing");
        Eventually.WaitUntil(() => Directory.GetFiles(factory.SpoolDirectory).Length == 0, TimeSpan.FromSeconds(10),
            "the spool file of the complete batch to be deleted");
    }
}
