using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Xml.Linq;
using Microsoft.Extensions.Options;

namespace ProfileUpdate.Client;

/// <summary>
/// Typed client of the ProfileUpdate service: single updates, visits, profile reads and deletes, batch update and bulk
/// erase submission, batch status, and the change feed (pages, or followed as a stream).
/// Register it with <see cref="ServiceCollectionExtensions.AddProfileUpdateClient"/>. Every refusal of the service
/// surfaces as <see cref="ProfileUpdateException"/>.
/// </summary>
public sealed partial class ProfileUpdateClient
{
    private readonly HttpClient _http;
    private readonly IHttpClientFactory _factory;
    private readonly ProfileUpdateClientOptions _options;
    private readonly string _client;

    /// <summary>Created by the HttpClient factory.</summary>
    /// <param name="http">The typed client: timeouts and retries for ordinary calls.</param>
    /// <param name="options">Where the service is and who calls it.</param>
    /// <param name="factory">Makes the separate client of the change stream (<see cref="StreamClientName"/>).</param>
    public ProfileUpdateClient(HttpClient http, IOptions<ProfileUpdateClientOptions> options, IHttpClientFactory factory)
    {
        ArgumentNullException.ThrowIfNull(options);
        _http = http;
        _factory = factory;
        _options = options.Value;
        _client = Uri.EscapeDataString(_options.Client);
    }

    /// <summary>Sets and removes attributes of one existing profile in one atomic update (POST form body).</summary>
    /// <returns><see cref="UpdateOutcome.ProfileNotFound"/> when no profile exists for the id (nothing is created).</returns>
    public async Task<UpdateOutcome> UpdateAsync(ProfileUpdateRequest update, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(update);
        var form = new List<KeyValuePair<string, string>>
        {
            new(update.Id.Kind == ProfileIdKind.TntId ? "mboxPC" : "mbox3rdPartyId", update.Id.Value),
        };
        form.AddRange(update.Set.Select(a => new KeyValuePair<string, string>("profile." + a.Key, a.Value)));
        if (update.Remove is { Count: > 0 } remove)
        {
            form.Add(new("emptyValues", "remove"));
            form.AddRange(remove.Select(name => new KeyValuePair<string, string>("profile." + name, "")));
        }

        // Not FormUrlEncodedContent: it writes a space as '+', and the service refuses a raw '+' in an id (an id may hold a
        // space; only '+' and '/' are banned). Percent-encoding every byte but the unreserved ones round-trips any value.
        using var content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(FormBody(form)));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        using var response = await _http.PostAsync($"m2/{_client}/profile/update", content, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return response.Headers.TryGetValues("X-Profile-Update", out var outcome) && outcome.Contains("profile-not-found")
            ? UpdateOutcome.ProfileNotFound
            : UpdateOutcome.Applied;
    }

    /// <summary>An application/x-www-form-urlencoded body with every name and value percent-encoded as UTF-8 (a space as %20).</summary>
    internal static string FormBody(IEnumerable<KeyValuePair<string, string>> fields) =>
        string.Join('&', fields.Select(f => Uri.EscapeDataString(f.Key) + "=" + Uri.EscapeDataString(f.Value)));

    /// <summary>Sets attributes of one existing profile.</summary>
    public Task<UpdateOutcome> UpdateAsync(ProfileId id, IReadOnlyDictionary<string, string> set, CancellationToken cancellationToken = default) =>
        UpdateAsync(new ProfileUpdateRequest(id, set), cancellationToken);

    /// <summary>
    /// Records a visit (<c>POST /rest/v1/delivery</c>), which creates the profile when needed, links the thirdPartyId and
    /// applies the profile parameters.
    /// </summary>
    /// <remarks>
    /// A visit with a <paramref name="tntId"/> or a <paramref name="thirdPartyId"/> is idempotent — sent again it finds
    /// the profile the first one created and sets the same values — so it is retried after 429/503 like every call. A
    /// visit with neither creates a new profile each time it is applied, so it is not retried after a 503: a 503 of the
    /// store ("not acknowledged", the store did not answer in time) may come after the profile was stored, and a retry
    /// would create a second, orphan profile. That 503 surfaces as <see cref="ProfileUpdateException"/>; retry it yourself
    /// only if a stray empty profile does not matter (or give the visitor a tntId or thirdPartyId).
    /// </remarks>
    public async Task<VisitResult> VisitAsync(string sessionId, string? tntId = null, string? thirdPartyId = null,
        IReadOnlyDictionary<string, string>? profileParameters = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(sessionId);
        var body = new VisitBody(new VisitContext("web"), new VisitId(tntId, thirdPartyId),
            new VisitExecute(new VisitPageLoad(profileParameters ?? new Dictionary<string, string>())));
        using var request = new HttpRequestMessage(HttpMethod.Post, $"rest/v1/delivery?client={_client}&sessionId={Uri.EscapeDataString(sessionId)}")
        {
            Content = JsonContent.Create(body, options: JsonOptions),
        };
        if (tntId is null && thirdPartyId is null) request.Options.Set(NotIdempotent, true);
        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        var id = json.RootElement.GetProperty("id");
        return new VisitResult(id.GetProperty("tntId").GetString()!,
            id.TryGetProperty("thirdPartyId", out var third) ? third.GetString() : null);
    }

    /// <summary>
    /// Marks a request that applies something new each time it is applied (a visit without ids creates a profile): the
    /// retry handler then leaves its 503 alone, because a 503 of the store does not say that nothing was applied.
    /// </summary>
    internal static readonly HttpRequestOptionsKey<bool> NotIdempotent = new("ProfileUpdate.Client.NotIdempotent");

    /// <summary>Reads a profile; null when none exists for the id.</summary>
    public async Task<Profile?> GetProfileAsync(ProfileId id, CancellationToken cancellationToken = default)
    {
        using var response = await _http.GetAsync(ProfilePath(id), cancellationToken).ConfigureAwait(false);
        // Only the missing profile is null; an unknown client is a 404 too and must surface with its own message.
        if (await IsNoProfileFoundAsync(response, cancellationToken).ConfigureAwait(false)) return null;
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        var view = await response.Content.ReadFromJsonAsync<ProfileBody>(JsonOptions, cancellationToken).ConfigureAwait(false)
                   ?? throw new ProfileUpdateException((int)response.StatusCode, "The profile read answered an empty body.");
        return new Profile(view.TntId, view.ThirdPartyId, ParseTime(view.ModifiedAt),
            view.ProfileAttributes.ToDictionary(a => a.Key, a => new ProfileAttributeValue(a.Value.Value, ParseTime(a.Value.ModifiedAt)), StringComparer.Ordinal));
    }

    /// <summary>
    /// Deletes a profile (<c>DELETE /rest/v1/profiles/...</c>): its attributes, every thirdPartyId linked to it and
    /// everything else keyed by it. A tntId may carry its location hint or not.
    /// </summary>
    /// <returns>
    /// <see cref="DeleteOutcome.Deleted"/> once all of it is durably gone (204); <see cref="DeleteOutcome.NotFound"/> when
    /// no profile existed for the id (404) — not an exception, because either way nothing is stored for the id afterwards
    /// (an erasure request for someone never stored is fulfilled). Like every idempotent call, it is retried after
    /// 429/503; a 503 of a store that did not answer in time may come after the delete was applied, so a NotFound after
    /// such a retry can be the echo of our own first attempt — which is why it is a result and not an error.
    /// </returns>
    /// <exception cref="ProfileUpdateException">Any other refusal: an invalid id (400), a wrong token (401), an unknown
    /// client (404 of the client check) or the store unavailable after the retries (503).</exception>
    public async Task<DeleteOutcome> DeleteProfileAsync(ProfileId id, CancellationToken cancellationToken = default)
    {
        using var response = await _http.DeleteAsync(ProfilePath(id), cancellationToken).ConfigureAwait(false);
        if (await IsNoProfileFoundAsync(response, cancellationToken).ConfigureAwait(false)) return DeleteOutcome.NotFound;
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return DeleteOutcome.Deleted;
    }

    /// <summary>
    /// A 404 whose problem body names the missing profile. An unknown client (or path) is a 404 too, told apart by its
    /// text, so that one is not mistaken for "nothing stored" and surfaces with the server's message instead.
    /// </summary>
    private static async Task<bool> IsNoProfileFoundAsync(HttpResponseMessage response, CancellationToken cancellationToken) =>
        response.StatusCode == HttpStatusCode.NotFound && IsProblem(response)
        && ServerMessage(response, await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false))
            .StartsWith("No profile found", StringComparison.Ordinal);

    private string ProfilePath(ProfileId id) => id.Kind == ProfileIdKind.TntId
        ? $"rest/v1/profiles/{Uri.EscapeDataString(id.Value)}?client={_client}"
        : $"rest/v1/profiles/thirdPartyId/{Uri.EscapeDataString(id.Value)}?client={_client}";

    /// <summary>Submits a batch file (the <c>batch=</c> format) from a stream; a seekable stream can be resent after a 429/503.</summary>
    public Task<BatchSubmission> SubmitBatchAsync(Stream batchFile, BatchSubmitOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new BatchSubmitOptions();
        var path = options.CreateMissing ? $"m2/{_client}/v2/profile/batchUpdate" : $"m2/{_client}/profile/batchUpdate";
        if (options.RemoveEmpty) path += "?emptyValues=remove";
        return SendBatchAsync(path, batchFile, options, cancellationToken);
    }

    /// <summary>Submits a batch file (the <c>batch=</c> format) from a path.</summary>
    public async Task<BatchSubmission> SubmitBatchFileAsync(string path, BatchSubmitOptions? options = null, CancellationToken cancellationToken = default)
    {
        var file = File.OpenRead(path);
        await using (file.ConfigureAwait(false))
            return await SubmitBatchAsync(file, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Submits a bulk erase (<c>POST /m2/{client}/v2/profile/batchDelete</c>) from a stream: <c>batch=thirdPartyId</c> or
    /// <c>batch=pcId</c> (aliases as for updates) and one URL-encoded id per row, no attribute columns (the service answers
    /// 400 to those, deleting nothing). Each profile found is deleted as by <see cref="DeleteProfileAsync"/>; waited for,
    /// the status counts <see cref="BatchStatus.ProfilesDeleted"/> and <see cref="BatchStatus.ProfilesNotFound"/>, and only
    /// failed rows (an invalid id, a second cell) make it throw. A seekable stream can be resent after a 429/503.
    /// </summary>
    public Task<BatchSubmission> SubmitEraseAsync(Stream eraseFile, BatchEraseOptions? options = null, CancellationToken cancellationToken = default) =>
        SendBatchAsync($"m2/{_client}/v2/profile/batchDelete", eraseFile, options ?? new BatchEraseOptions(), cancellationToken);

    /// <summary>Submits a bulk erase file (see <see cref="SubmitEraseAsync"/>) from a path.</summary>
    public async Task<BatchSubmission> SubmitEraseFileAsync(string path, BatchEraseOptions? options = null, CancellationToken cancellationToken = default)
    {
        var file = File.OpenRead(path);
        await using (file.ConfigureAwait(false))
            return await SubmitEraseAsync(file, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The longest <c>Prefer: wait</c> asked for; the rest of a wait polls. The held request counts against
    /// <see cref="ProfileUpdateClientOptions.RequestTimeout"/> together with the upload, and the service holds at most 600 s
    /// — as long as the default timeout — so a long hold would end as a timeout with the batch id never seen. A short
    /// hold also lets the rows-consumed progress start early.
    /// </summary>
    private static readonly TimeSpan MaxPreferredWait = TimeSpan.FromSeconds(30);

    private async Task<BatchSubmission> SendBatchAsync(string path, Stream batchFile, BatchSendOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batchFile);
        var content = new ProgressContent(batchFile, options.BytesSent);
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("text/csv") { CharSet = "utf-8" };
        // Asks the server to hold the answer until the batch is complete (or that many seconds passed); polled after.
        if (options.Wait) request.Headers.TryAddWithoutValidation("Prefer", $"wait={(long)PreferredWait(options.WaitTimeout).TotalSeconds}");

        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        var answer = XElement.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
        var submission = new BatchSubmission((string?)answer.Element("batchId") ?? "", new Uri((string?)answer.Element("batchStatus") ?? "", UriKind.RelativeOrAbsolute), null);
        options.Submitted?.Report(submission);
        if (!options.Wait) return submission;

        // WaitTimeout is for the applying, not the upload: it counts from when the last byte was sent (the server's hold
        // included), so a slow upload does not eat the wait and a hold does not double it.
        var waited = content.SentAt is { } sentAt ? Stopwatch.GetElapsedTime(sentAt) : TimeSpan.Zero;
        var left = options.WaitTimeout - waited;
        var status = await WaitForBatchAsync(submission.BatchId, left > TimeSpan.Zero ? left : TimeSpan.Zero, options.WaitTimeout, options.StatusSeen, cancellationToken)
            .ConfigureAwait(false);
        if (options.ThrowOnFailedRows && !status.AllApplied)
            throw new BatchNotAppliedException(status, status.IsErase
                ? $"Batch {status.BatchId}: {status.Failed} of {status.BatchSize} rows failed."
                : $"Batch {status.BatchId}: {status.Failed} of {status.BatchSize} rows failed and {status.ProfilesNotFound} found no profile.");
        return submission with { Status = status };
    }

    private TimeSpan PreferredWait(TimeSpan waitTimeout)
    {
        var wait = waitTimeout < MaxPreferredWait ? waitTimeout : MaxPreferredWait;
        // Leave at least half the request timeout for the upload.
        var half = _options.RequestTimeout / 2;
        return wait < half ? wait : half;
    }

    /// <summary>
    /// Polls a batch's status until it is complete; throws <see cref="BatchNotAppliedException"/> when it is stuck or the
    /// timeout passes. A timed-out wait throws it with <see cref="ProfileUpdateException.WaitTimedOut"/> set and the last
    /// <see cref="ProfileUpdateException.Batch"/> status seen: the batch is still being applied, not failed.
    /// </summary>
    public Task<BatchStatus> WaitForBatchAsync(string batchId, TimeSpan timeout, IProgress<BatchStatus>? progress = null,
        CancellationToken cancellationToken = default) =>
        WaitForBatchAsync(batchId, timeout, timeout, progress, cancellationToken);

    private async Task<BatchStatus> WaitForBatchAsync(string batchId, TimeSpan timeout, TimeSpan named, IProgress<BatchStatus>? progress,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var status = await GetBatchStatusAsync(batchId, details: true, cancellationToken).ConfigureAwait(false);
            progress?.Report(status);
            if (status.IsComplete) return status;
            if (status.State == "stuck")
                throw new BatchNotAppliedException(status, $"Batch {batchId} is stuck (the instance applying it stopped); resubmit the file.");
            if (Stopwatch.GetElapsedTime(started) >= timeout)
                throw new BatchNotAppliedException(status,
                    $"Batch {batchId} was not complete after {named.TotalSeconds:0} s ({status.Consumed} of {status.BatchSize} rows consumed); it is still being applied.",
                    waitTimedOut: true);
            await Task.Delay(_options.BatchPollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>A batch's status; with details the counts and the failed rows (row number, id, message).</summary>
    public async Task<BatchStatus> GetBatchStatusAsync(string batchId, bool details = true, CancellationToken cancellationToken = default)
    {
        var path = $"m2/{_client}/v2/profile/batchStatus?batchId={Uri.EscapeDataString(batchId)}" + (details ? "&showDetails=true" : "");
        using var response = await _http.GetAsync(path, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return ParseStatus(XElement.Parse(await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)));
    }

    private static BatchStatus ParseStatus(XElement xml)
    {
        long Count(string name) => (long?)xml.Element(name) ?? 0;
        var failed = xml.Elements("profile")
            .Select(p => new BatchFailedRow((long?)p.Element("row") ?? 0, (string?)p.Element("id") ?? "", (string?)p.Element("message") ?? ""))
            .ToList();
        return new BatchStatus((string?)xml.Element("batchId") ?? "", (string?)xml.Element("status") ?? "", Count("batchSize"),
            Count("consumedCount"), Count("successfulUpdates"), Count("profilesNotFound"), Count("failedUpdates"), Count("profilesCreated"), failed,
            (long?)xml.Element("profilesDeleted"));
    }

    /// <summary>Throws <see cref="ProfileUpdateException"/> with the server's message for any non-2xx answer.</summary>
    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode) return;
        var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        throw new ProfileUpdateException((int)response.StatusCode, ServerMessage(response, body), RetryAfterOf(response));
    }

    private static bool IsProblem(HttpResponseMessage response) =>
        response.Content.Headers.ContentType?.MediaType == "application/problem+json";

    /// <summary>problem+json <c>message</c> (or <c>detail</c>), the XML envelope's <c>message</c>, else the start of the body.</summary>
    private static string ServerMessage(HttpResponseMessage response, string body)
    {
        var reason = $"{(int)response.StatusCode} {response.ReasonPhrase}";
        try
        {
            var media = response.Content.Headers.ContentType?.MediaType ?? "";
            if (media.Contains("json", StringComparison.Ordinal))
            {
                using var json = JsonDocument.Parse(body);
                foreach (var name in new[] { "message", "detail", "title" })
                    if (json.RootElement.TryGetProperty(name, out var text) && text.ValueKind == JsonValueKind.String)
                        return text.GetString()!;
            }
            else if (media.Contains("xml", StringComparison.Ordinal) && (string?)XElement.Parse(body).Element("message") is { Length: > 0 } message)
            {
                return message;
            }
        }
        catch (Exception ex) when (ex is JsonException or System.Xml.XmlException)
        {
            // Not the documented shape (a proxy's page, say): fall through to the raw start of the body.
        }
        return body.Length == 0 ? reason : body[..Math.Min(body.Length, 500)];
    }

    internal static TimeSpan? RetryAfterOf(HttpResponseMessage? response)
    {
        var header = response?.Headers.RetryAfter;
        if (header?.Delta is { } delta) return delta;
        if (header?.Date is { } date) return date - DateTimeOffset.UtcNow;
        return null;
    }

    private static DateTimeOffset ParseTime(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private sealed record VisitBody(VisitContext Context, VisitId Id, VisitExecute Execute);

    private sealed record VisitContext(string Channel);

    private sealed record VisitId(
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? TntId,
        [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] string? ThirdPartyId);

    private sealed record VisitExecute(VisitPageLoad PageLoad);

    private sealed record VisitPageLoad(IReadOnlyDictionary<string, string> ProfileParameters);

    private sealed record ProfileBody(string TntId, string? ThirdPartyId, string ModifiedAt, Dictionary<string, AttributeBody> ProfileAttributes);

    private sealed record AttributeBody(string Value, string ModifiedAt);
}
