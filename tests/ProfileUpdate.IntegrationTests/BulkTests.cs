using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Xml.Linq;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>Bulk Profile Update API (docs/api.md §2) end to end on real Redis, with the default limits.</summary>
public sealed class BulkTests(RedisServiceFixture fixture) : IClassFixture<RedisServiceFixture>
{
    // Adobe's documented example file, verbatim.
    private const string AdobeExample = "batch=pcId,param1,param2,param3,param4\n123,value1\n124,value1,,,value4\n125,,value2\n126,value1,value2,value3,value4\n";

    private HttpClient Http => fixture.Client;

    private void SkipWithoutStore() => Skip.If(fixture.SkipReason is not null, fixture.SkipReason);

    /// <summary>What curl --data-binary @file sends: the raw bytes labelled application/x-www-form-urlencoded.</summary>
    private async Task<(HttpStatusCode Status, XElement Xml, HttpResponseMessage Response)> SubmitAsync(string client, string body, bool v2,
        string contentType = "application/x-www-form-urlencoded")
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        return await SendAsync(client, content, v2);
    }

    private async Task<(HttpStatusCode Status, XElement Xml, HttpResponseMessage Response)> SendAsync(string client, HttpContent content, bool v2)
    {
        var response = await Wire.PostBatchAndWaitAsync(Http, $"/m2/{client}{(v2 ? "/v2" : "")}/profile/batchUpdate", content);
        Assert.Equal("application/xml", response.Content.Headers.ContentType?.MediaType);
        return (response.StatusCode, XElement.Parse(await response.Content.ReadAsStringAsync()), response);
    }

    private async Task<XElement> StatusAsync(string url)
    {
        using var response = await Http.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return XElement.Parse(await response.Content.ReadAsStringAsync());
    }

    private static long Count(XElement status, string name) => long.Parse(status.Element(name)!.Value, System.Globalization.CultureInfo.InvariantCulture);

    [SkippableFact]
    public async Task Adobe_example_verbatim_creates_profiles_and_status_is_complete()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var (status, xml, _) = await SubmitAsync(client, AdobeExample, v2: true);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("true", xml.Element("success")!.Value);
        Assert.Equal("Batch submitted for processing", xml.Element("message")!.Value);
        var batchId = xml.Element("batchId")!.Value;
        Assert.Matches($"^{client}-\\d{{13}}-\\d{{8}}$", batchId);
        var statusUrl = new Uri(xml.Element("batchStatus")!.Value);
        Assert.True(statusUrl.IsAbsoluteUri);

        var plain = await StatusAsync(statusUrl.PathAndQuery + "&m2Node=x&mboxPC=y");
        Assert.Equal("complete", plain.Element("status")!.Value);
        Assert.Equal(4, Count(plain, "batchSize"));
        Assert.Null(plain.Element("consumedCount"));

        var details = await StatusAsync(statusUrl.PathAndQuery + "&showDetails=true");
        Assert.Equal((4, 4, 0, 0, 4), (Count(details, "consumedCount"), Count(details, "successfulUpdates"),
            Count(details, "profilesNotFound"), Count(details, "failedUpdates"), Count(details, "profilesCreated")));

        var p124 = (await Wire.ReadByTntAsync(Http, client, "124"))!.Value;
        Assert.Equal("value1", Wire.Attribute(p124, "param1"));
        Assert.Null(Wire.Attribute(p124, "param2")); // empty cells are ignored
        Assert.Equal("value4", Wire.Attribute(p124, "param4"));
    }

    [SkippableFact]
    public async Task V1_counts_unknown_ids_as_not_found_and_creates_nothing_v2_creates_and_links()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        await Wire.VisitAsync(Http, client, thirdPartyId: "known");
        var file = "batch=thirdPartyId,tier\nknown,gold\nunknown,silver\n";

        var (_, v1, _) = await SubmitAsync(client, file, v2: false);
        Assert.Contains("/m2/" + client + "/profile/batchStatus", v1.Element("batchStatus")!.Value, StringComparison.Ordinal);
        var s1 = await StatusAsync(new Uri(v1.Element("batchStatus")!.Value).PathAndQuery + "&showDetails=true");
        Assert.Equal((1, 1, 0), (Count(s1, "successfulUpdates"), Count(s1, "profilesNotFound"), Count(s1, "profilesCreated")));
        Assert.Null(await Wire.ReadByThirdPartyAsync(Http, client, "unknown"));
        Assert.Equal("gold", Wire.Attribute((await Wire.ReadByThirdPartyAsync(Http, client, "known"))!.Value, "tier"));

        var (_, v2, _) = await SubmitAsync(client, file, v2: true);
        Assert.Contains("/m2/" + client + "/v2/profile/batchStatus", v2.Element("batchStatus")!.Value, StringComparison.Ordinal);
        var s2 = await StatusAsync(new Uri(v2.Element("batchStatus")!.Value).PathAndQuery + "&showDetails=true");
        Assert.Equal((2, 0, 1), (Count(s2, "successfulUpdates"), Count(s2, "profilesNotFound"), Count(s2, "profilesCreated")));
        var created = (await Wire.ReadByThirdPartyAsync(Http, client, "unknown"))!.Value;
        Assert.Equal("silver", Wire.Attribute(created, "tier"));
        Assert.Matches("^[0-9a-f]{32}\\.", created.GetProperty("tntId").GetString()!);
    }

    [SkippableFact]
    public async Task Failed_rows_are_reported_with_row_and_reason_and_the_rest_applies()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var file = "\uFEFFbatch=thirdPartyId,a,b\r\n" +
                   "ok-1,x%2Cy,R%26D+team\r\n" +   // line 2: comma and ampersand inside values
                   "\r\n" +                         // line 3: blank, skipped
                   "too,many,cells,here\r\n" +     // line 4
                   ",novalue\r\n" +                 // line 5: empty id
                   "bad%2Bid,1\r\n" +              // line 6: '+' in a thirdPartyId
                   "bad-escape,%ZZ\r\n" +           // line 7
                   "bad-utf8,%C3%28\r\n" +          // line 8
                   $"long,{new string('v', 257)}\r\n" + // line 9
                   "ok-1,,later\n" +                // line 10: same id again, merged
                   "ok-2\n";                        // line 11: only the id
        var (status, xml, _) = await SubmitAsync(client, file, v2: true, contentType: "text/csv");
        Assert.Equal(HttpStatusCode.OK, status);
        var details = await StatusAsync(new Uri(xml.Element("batchStatus")!.Value).PathAndQuery + "&showDetails=true");
        Assert.Equal(9, Count(details, "batchSize"));
        Assert.Equal((9, 3, 6), (Count(details, "consumedCount"), Count(details, "successfulUpdates"), Count(details, "failedUpdates")));
        var failures = details.Elements("profile").ToList();
        Assert.Equal([4, 5, 6, 7, 8, 9], failures.Select(f => (int)Count(f, "row")));
        Assert.All(failures, f => Assert.Equal("failed", f.Element("status")!.Value));
        Assert.Contains("4 cells", failures[0].Element("message")!.Value, StringComparison.Ordinal);
        Assert.Contains("'+' or '/'", failures[2].Element("message")!.Value, StringComparison.Ordinal);
        Assert.Contains("percent-escape", failures[3].Element("message")!.Value, StringComparison.Ordinal);
        Assert.Contains("UTF-8", failures[4].Element("message")!.Value, StringComparison.Ordinal);
        Assert.Contains("256", failures[5].Element("message")!.Value, StringComparison.Ordinal);

        var ok = (await Wire.ReadByThirdPartyAsync(Http, client, "ok-1"))!.Value;
        Assert.Equal("x,y", Wire.Attribute(ok, "a"));
        Assert.Equal("later", Wire.Attribute(ok, "b")); // the later row wins per attribute, "a" is kept
    }

    [SkippableFact]
    public async Task A_line_longer_than_any_valid_row_is_a_failed_row_and_the_rest_applies()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        // Line 3: a 5 MB id cell; line 5: a valid id with a 5 MB value. The longest valid row of this header is
        // 3,072 + 3,073 + 1 bytes (every character fully percent-encoded), so both are refused unread, by length.
        var huge = new string('i', 5 * 1024 * 1024);
        var file = "batch=thirdPartyId,a\nok-1,x\n" + huge + ",v\nok-2,y\r\nlong-value," + huge + "\nok-3,z\n";
        var (status, xml, _) = await SubmitAsync(client, file, v2: true, contentType: "text/csv");
        Assert.Equal(HttpStatusCode.OK, status);
        var details = await StatusAsync(new Uri(xml.Element("batchStatus")!.Value).PathAndQuery + "&showDetails=true");
        Assert.Equal("complete", details.Element("status")!.Value);
        Assert.Equal((5, 5, 3, 2), (Count(details, "batchSize"), Count(details, "consumedCount"), Count(details, "successfulUpdates"), Count(details, "failedUpdates")));
        var failures = details.Elements("profile").ToList();
        Assert.Equal([3, 5], failures.Select(f => (int)Count(f, "row")));
        Assert.StartsWith("Line 3: row longer than 6146 bytes", failures[0].Element("message")!.Value, StringComparison.Ordinal);
        Assert.StartsWith("Line 5: row longer than 6146 bytes", failures[1].Element("message")!.Value, StringComparison.Ordinal);
        Assert.Equal("long-value", failures[1].Element("id")!.Value);
        foreach (var (id, value) in new[] { ("ok-1", "x"), ("ok-2", "y"), ("ok-3", "z") })
            Assert.Equal(value, Wire.Attribute((await Wire.ReadByThirdPartyAsync(Http, client, id))!.Value, "a"));
    }

    [SkippableFact]
    public async Task Whole_batch_errors_answer_400_and_apply_nothing()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        foreach (var (file, expected) in new[]
                 {
                     ("thirdPartyId,a\nx,1\n", "batch="),
                     ("batch=email,a\nx,1\n", "pcId or thirdPartyId"),
                     ("batch=marketingCloudVisitorId,a\nx,1\n", "Experience Cloud"),
                     ("batch=thirdPartyId,profile.a\nx,1\n", "profile."),
                     ("batch=thirdPartyId,a,a\nx,1,2\n", "more than once"),
                     ("batch=thirdPartyId,a,,b\nx,1\n", "empty"),
                     ("batch=thirdPartyId,%FF\nx,1\n", "UTF-8"),
                     ("", "empty"),
                 })
        {
            var (status, xml, _) = await SubmitAsync(client, file, v2: true);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal("false", xml.Element("success")!.Value);
            Assert.Equal(string.Empty, xml.Element("batchStatus")!.Value);
            Assert.Contains(expected, xml.Element("message")!.Value, StringComparison.Ordinal);
        }
        Assert.Null(await Wire.ReadByThirdPartyAsync(Http, client, "x"));
    }

    [SkippableFact]
    public async Task Over_50_MB_or_500000_rows_answers_413_and_applies_nothing()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var head = "batch=thirdPartyId,a\nfirst,applied-if-broken\n";
        var big = new byte[52_428_801];
        Encoding.ASCII.GetBytes(head).CopyTo(big, 0);
        for (var i = head.Length; i < big.Length; i++) big[i] = (byte)((i % 80 == 0) ? '\n' : 'x');
        var (status, xml, _) = await SendAsync(client, new ByteArrayContent(big), v2: true);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Contains("52428800 bytes", xml.Element("message")!.Value, StringComparison.Ordinal);

        var rows = new StringBuilder(head.Length + 500_001 * 8).Append("batch=thirdPartyId,a\n");
        for (var i = 0; i < 500_001; i++) rows.Append('r').Append(i).Append(",1\n");
        (status, xml, _) = await SubmitAsync(client, rows.ToString(), v2: true);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Contains("500000 rows", xml.Element("message")!.Value, StringComparison.Ordinal);

        Assert.Null(await Wire.ReadByThirdPartyAsync(Http, client, "first"));
        Assert.Null(await Wire.ReadByThirdPartyAsync(Http, client, "r0"));
    }

    [SkippableFact]
    public async Task Multipart_upload_as_swagger_ui_sends_it()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes("batch=thirdPartyId,tier\nmp-1,gold\n"));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        form.Add(file, "file", "batch.csv");
        var (status, xml, _) = await SendAsync(client, form, v2: true);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("true", xml.Element("success")!.Value);
        Assert.Equal("gold", Wire.Attribute((await Wire.ReadByThirdPartyAsync(Http, client, "mp-1"))!.Value, "tier"));
    }

    [SkippableFact]
    public async Task Unknown_batch_is_404_and_wrong_content_type_is_415()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        using var unknown = await Http.GetAsync($"/m2/{client}/profile/batchStatus?batchId={client}-1-00000000");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("false", XElement.Parse(await unknown.Content.ReadAsStringAsync()).Element("success")!.Value);

        var (status, xml, _) = await SubmitAsync(client, "batch=thirdPartyId,a\nx,1\n", v2: true, contentType: "application/json");
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        Assert.Contains("--data-binary", xml.Element("message")!.Value, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task A_repeated_status_parameter_is_a_400_that_says_so()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        foreach (var query in new[] { "batchId=a&batchId=b", $"batchId={client}-1-00000000&showDetails=true&showDetails=false" })
        {
            using var response = await Http.GetAsync($"/m2/{client}/v2/profile/batchStatus?{query}");
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{query}: {(int)response.StatusCode} {body}");
            Assert.Contains("is given more than once", XElement.Parse(body).Element("message")!.Value, StringComparison.Ordinal);
        }
    }

    [SkippableFact]
    public async Task A_batch_racing_single_updates_leaves_every_acknowledged_value_or_a_later_one()
    {
        SkipWithoutStore();
        var client = Wire.NewClient();
        var ids = Enumerable.Range(0, 200).Select(i => $"race-{i}").ToArray();
        await Task.WhenAll(ids.Select(id => Wire.VisitAsync(Http, client, thirdPartyId: id)));
        var file = "batch=thirdPartyId,fromBatch,shared\n" + string.Concat(ids.Select(id => $"{id},yes,batch\n"));

        var batch = SubmitAsync(client, file, v2: false);
        var singles = ids.Select(async id =>
        {
            using var r = await Http.GetAsync($"/m2/{client}/profile/update?mbox3rdPartyId={id}&profile.fromSingle=yes");
            return r.StatusCode;
        }).ToArray();
        Assert.Equal(HttpStatusCode.OK, (await batch).Status);
        Assert.All(await Task.WhenAll(singles), s => Assert.Equal(HttpStatusCode.OK, s));

        foreach (var id in ids)
        {
            var profile = (await Wire.ReadByThirdPartyAsync(Http, client, id))!.Value;
            Assert.Equal("yes", Wire.Attribute(profile, "fromBatch"));
            Assert.Equal("yes", Wire.Attribute(profile, "fromSingle")); // merged, never wiped
        }
    }
}

/// <summary>The per-client submission limit, on its own service so its low limit touches no other test.</summary>
public sealed class BulkSubmissionLimitTests
{
    /// <summary>The service on a Redis of its own with a limit of 2 submissions a minute.</summary>
    private sealed class LimitedService : IAsyncDisposable
    {
        private readonly RedisServer _redis = new();
        private readonly ServiceFactory _factory;

        public LimitedService()
        {
            _factory = new ServiceFactory(_redis.ConnectionString,
                new Dictionary<string, string?> { ["ProfileUpdate:Bulk:SubmissionsPerMinute"] = "2" },
                services => services.AddSingleton<TimeProvider>(Time));
            Http = _factory.CreateHttpClient();
        }

        /// <summary>A fixed clock 20 s into a minute: no minute boundary falls between the calls unless a test moves it.</summary>
        public FakeTimeProvider Time { get; } = new(DateTimeOffset.FromUnixTimeSeconds(1_800_000_000 / 60 * 60 + 20));

        public HttpClient Http { get; }

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await _factory.DisposeAsync();
            _redis.Dispose();
        }
    }

    [SkippableFact]
    public async Task More_than_the_per_minute_submissions_answer_429_with_retry_after()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        await using var service = new LimitedService();
        var (http, time) = (service.Http, service.Time);
        var client = Wire.NewClient();
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        for (var i = 0; i < 3; i++)
        {
            last?.Dispose();
            last = await http.PostAsync($"/m2/{client}/v2/profile/batchUpdate", new StringContent("batch=thirdPartyId,a\nx,1\n"));
            statuses.Add(last.StatusCode);
        }
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests], statuses);
        Assert.Equal(TimeSpan.FromSeconds(40), last!.Headers.RetryAfter?.Delta);
        Assert.Contains("at most 2 batches per minute", await last.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        time.Advance(TimeSpan.FromSeconds(40)); // the next minute
        using var again = await http.PostAsync($"/m2/{client}/v2/profile/batchUpdate", new StringContent("batch=thirdPartyId,a\nx,1\n"));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        last.Dispose();
    }

    [SkippableFact]
    public async Task Refused_submissions_do_not_count_and_racing_ones_never_admit_more_than_the_limit()
    {
        Skip.IfNot(RedisServer.IsAvailable, RedisServer.SkipReason);
        await using var service = new LimitedService();
        var http = service.Http;
        var url = $"/m2/{Wire.NewClient()}/v2/profile/batchUpdate";
        async Task<HttpStatusCode> SubmitAsync(string file, string contentType = "text/plain")
        {
            using var response = await http.PostAsync(url, new StringContent(file, Encoding.UTF8, contentType));
            return response.StatusCode;
        }

        // A client fixing its upload: refusals (a bad header, a wrong Content-Type) use none of its 2 submissions.
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.BadRequest, await SubmitAsync("batch=email,a\nx,1\n"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, await SubmitAsync("batch=thirdPartyId,a\nx,1\n", "application/json"));
        Assert.Equal(HttpStatusCode.OK, await SubmitAsync("batch=thirdPartyId,a\nx,1\n"));

        // One submission left; good and bad ones race for it: never more than one more is accepted, and once all are
        // answered the refused ones have given their counts back, so exactly the limit's worth was accepted in all.
        var racing = await Task.WhenAll(Enumerable.Range(0, 12).Select(i => SubmitAsync(i % 2 == 0 ? "batch=thirdPartyId,a\nx,1\n" : "batch=email,a\nx,1\n")));
        var accepted = 1 + racing.Count(s => s == HttpStatusCode.OK);
        Assert.True(accepted <= 2, string.Join(",", racing));
        while (accepted < 2 && await SubmitAsync("batch=thirdPartyId,a\nx,1\n") == HttpStatusCode.OK) accepted++;
        Assert.Equal(2, accepted);
        Assert.Equal(HttpStatusCode.TooManyRequests, await SubmitAsync("batch=thirdPartyId,a\nx,1\n"));
        // A refused upload after the limit is still told the limit first (nothing of it is read).
        Assert.Equal(HttpStatusCode.TooManyRequests, await SubmitAsync("batch=email,a\nx,1\n"));
    }
}
