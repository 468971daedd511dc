using System.Text;
using Microsoft.Extensions.DependencyInjection;
using ProfileUpdate.Cli;
using ProfileUpdate.Client;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>A service with a batch row limit of 1,000, so a few thousand CSV rows need several batches.</summary>
public abstract class SmallBatchServiceFixture : IDisposable
{
    private readonly RedisServer? _redis;
    private readonly ServiceFactory? _factory;

    protected SmallBatchServiceFixture(bool onRedis)
    {
        if (onRedis && !RedisServer.IsAvailable)
        {
            SkipReason = RedisServer.SkipReason;
            return;
        }
        _redis = onRedis ? new RedisServer() : null;
        _factory = new ServiceFactory(_redis?.ConnectionString, new Dictionary<string, string?> { ["ProfileUpdate:Limits:MaxBatchRows"] = "1000" });
        Url = _factory.BaseAddress;
    }

    public string? SkipReason { get; }

    public Uri Url { get; } = null!;

    public void Dispose()
    {
        _factory?.Dispose();
        _redis?.Dispose();
        GC.SuppressFinalize(this);
    }
}

public sealed class SmallBatchServiceOnRedis() : SmallBatchServiceFixture(onRedis: true);

public sealed class SmallBatchServiceOnEmbeddedStore() : SmallBatchServiceFixture(onRedis: false);

/// <summary>The .NET client and the profile-update command line (run in-process) against the real service.</summary>
public abstract class ClientAndCliContract(SmallBatchServiceFixture service) : IDisposable
{
    private readonly string _client = Wire.NewClient();
    private readonly List<string> _files = [];

    public void Dispose()
    {
        _files.ForEach(File.Delete);
        GC.SuppressFinalize(this);
    }

    private void SkipWithoutStore() => Skip.If(service.SkipReason is not null, service.SkipReason);

    [SkippableFact]
    public async Task A_csv_with_quotes_commas_reserved_characters_and_any_utf8_round_trips_exactly()
    {
        SkipWithoutStore();
        var (first, second) = (Wire.NewId(), Wire.NewId());
        var csv = Csv(
            "thirdPartyId,note,city,symbols,\"na,me\"",
            $"{first},\"a, b \"\"quoted\"\" & c\",Köln,+ % = &amp; 東京 😀,x",
            $"{second},\"line\nbreak\",東京,\"\"\"\",😀");

        var (exit, output, error) = await CliAsync("bulk", "upload", csv, "--wait");

        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");
        using var services = Services(_client);
        var client = services.GetRequiredService<ProfileUpdateClient>();
        var one = (await client.GetProfileAsync(ProfileId.ThirdParty(first)))!.Attributes;
        Assert.Equal("a, b \"quoted\" & c", one["note"].Value);
        Assert.Equal("Köln", one["city"].Value);
        Assert.Equal("+ % = &amp; 東京 😀", one["symbols"].Value);
        Assert.Equal("x", one["na,me"].Value);
        var two = (await client.GetProfileAsync(ProfileId.ThirdParty(second)))!.Attributes;
        Assert.Equal("line\nbreak", two["note"].Value);
        Assert.Equal("東京", two["city"].Value);
        Assert.Equal("\"", two["symbols"].Value);
        Assert.Equal("😀", two["na,me"].Value);
    }

    [SkippableFact]
    public async Task A_csv_over_the_row_limit_uploads_in_several_batches_and_every_row_is_readable()
    {
        SkipWithoutStore();
        var lines = new List<string> { "pcId,n,tier" };
        lines.AddRange(Enumerable.Range(1, 2500).Select(i => $"csv-{i}.1_0,{i},gold"));
        var csv = Csv([.. lines]);

        var (exit, output, error) = await CliAsync("bulk", "upload", csv, "--max-rows", "1000", "--wait");
        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");
        Assert.Contains("2,500 rows in 3 batch(es): 2,500 applied", output, StringComparison.Ordinal);

        // With the default --max-rows the service's own 413 makes the CLI halve the part until it fits.
        var other = Wire.NewClient();
        (exit, output, error) = await CliForAsync(other, "bulk", "upload", csv, "--wait");
        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");
        Assert.Contains("answered 413", output, StringComparison.Ordinal);
        Assert.Contains("2,500 rows in 4 batch(es): 2,500 applied", output, StringComparison.Ordinal);

        using var services = Services(_client);
        var client = services.GetRequiredService<ProfileUpdateClient>();
        foreach (var i in new[] { 1, 1000, 1001, 2000, 2001, 2500 })
            Assert.Equal(i.ToString(System.Globalization.CultureInfo.InvariantCulture), (await client.GetProfileAsync(ProfileId.Tnt($"csv-{i}")))!.Attributes["n"].Value);
    }

    [SkippableFact]
    public async Task A_bad_id_fails_with_a_non_zero_exit_naming_its_csv_row()
    {
        SkipWithoutStore();
        // Line 3 spans two lines (a quoted line break), line 5 is blank: the bad id is on CSV line 6.
        var csv = Csv("thirdPartyId,a", $"{Wire.NewId()},\"multi\nline\"", $"{Wire.NewId()},ok", "", "anna+crm@example.com,x");

        var (exit, output, error) = await CliAsync("bulk", "upload", csv, "--wait");

        Assert.Equal(CliApp.Failed, exit);
        Assert.Contains("row 6: anna+crm@example.com:", error, StringComparison.Ordinal);
        Assert.Contains("2 applied", output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Get_of_an_unknown_id_names_it_and_a_v1_upload_whose_profile_is_missing_says_why_it_exits_1()
    {
        SkipWithoutStore();
        var (known, missing) = (Wire.NewId(), Wire.NewId());
        var (exit, output, error) = await CliAsync("get", "--third-party-id", missing);
        Assert.Equal(CliApp.Failed, exit);
        Assert.Equal($"404: No profile found for client {_client} with thirdPartyId {missing}.", error.TrimEnd());

        // Before: exit 1 with nothing on stderr; the service counts such rows but does not list them.
        using var services = Services(_client);
        await services.GetRequiredService<ProfileUpdateClient>().VisitAsync("s1", thirdPartyId: known);
        (exit, output, error) = await CliAsync("bulk", "upload", Csv("thirdPartyId,a", $"{known},1", $"{missing},2"), "--v1", "--wait");
        Assert.True(exit == CliApp.Failed, $"exit {exit}: {output}{error}");
        Assert.Contains("1 applied (0 profiles created), 1 profiles not found", output, StringComparison.Ordinal);
        Assert.Matches($@"^1 row\(s\) of batch {_client}-\d+-\d+ found no profile and changed nothing: a v1 update \(--v1\) updates existing profiles only", error);
    }

    [SkippableFact]
    public async Task The_client_covers_visit_update_read_and_batch_status_with_failed_rows()
    {
        SkipWithoutStore();
        using var services = Services(_client);
        var client = services.GetRequiredService<ProfileUpdateClient>();
        var id = Wire.NewId();
        var visit = await client.VisitAsync("s1", thirdPartyId: id, profileParameters: new Dictionary<string, string> { ["tier"] = "gold" });
        Assert.Equal(id, visit.ThirdPartyId);

        Assert.Equal(UpdateOutcome.Applied, await client.UpdateAsync(ProfileId.ThirdParty(id), new Dictionary<string, string> { ["city"] = "Köln am Rhein" }));
        Assert.Equal(UpdateOutcome.ProfileNotFound, await client.UpdateAsync(ProfileId.ThirdParty(Wire.NewId()), new Dictionary<string, string> { ["a"] = "1" }));
        var profile = (await client.GetProfileAsync(ProfileId.Tnt(visit.TntId)))!;
        Assert.Equal("Köln am Rhein", profile.Attributes["city"].Value);
        Assert.Equal("gold", profile.Attributes["tier"].Value);
        Assert.Null(await client.GetProfileAsync(ProfileId.ThirdParty(Wire.NewId())));

        using var batch = new MemoryStream(Encoding.UTF8.GetBytes($"batch=thirdPartyId,a\n{id},1\nbad+id,2\n"));
        // Its own type, still a ProfileUpdateException, that does not pretend to be an HTTP status (before: "200: Batch …").
        var failed = await Assert.ThrowsAsync<BatchNotAppliedException>(() => client.SubmitBatchAsync(batch, new BatchSubmitOptions { Wait = true }));
        Assert.IsAssignableFrom<ProfileUpdateException>(failed);
        Assert.Equal(0, failed.StatusCode);
        Assert.StartsWith($"Batch {failed.Batch.BatchId}: 1 of 2 rows failed", failed.Message, StringComparison.Ordinal);
        Assert.False(failed.WaitTimedOut);
        Assert.Equal(3, Assert.Single(failed.FailedRows).Row);
        Assert.Equal("bad+id", failed.FailedRows[0].Id);
        Assert.Equal(1, failed.Batch!.Successful);

        var unknown = await Assert.ThrowsAsync<ProfileUpdateException>(() => client.GetBatchStatusAsync($"{_client}-0-00000000"));
        Assert.Equal(404, unknown.StatusCode);
        Assert.Contains("No batch", unknown.ServerMessage, StringComparison.Ordinal);
        var bad = await Assert.ThrowsAsync<ProfileUpdateException>(() => client.UpdateAsync(ProfileId.ThirdParty("a+b"), new Dictionary<string, string> { ["a"] = "1" }));
        Assert.Equal(400, bad.StatusCode);
    }

    [SkippableFact]
    public async Task The_client_and_cli_update_remove_attributes_with_sets_in_one_update_or_alone()
    {
        SkipWithoutStore();
        using var services = Services(_client);
        var client = services.GetRequiredService<ProfileUpdateClient>();
        var id = ProfileId.ThirdParty(Wire.NewId());
        await client.VisitAsync("s1", thirdPartyId: id.Value, profileParameters: new Dictionary<string, string> { ["a"] = "1", ["b"] = "2", ["c"] = "3", ["d"] = "4" });

        Assert.Equal(UpdateOutcome.Applied, await client.UpdateAsync(new ProfileUpdateRequest(id, new Dictionary<string, string> { ["e"] = "5" }, ["a"])));
        Assert.Equal(UpdateOutcome.Applied, await client.UpdateAsync(new ProfileUpdateRequest(id, new Dictionary<string, string>(), ["b", "never-set"])));
        Assert.Equal(["c", "d", "e"], Names(await client.GetProfileAsync(id)));

        var (exit, output, error) = await CliAsync("update", "--third-party-id", id.Value, "f=6", "--remove", "c", "--remove", "d");
        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");
        Assert.Equal(["e", "f"], Names(await client.GetProfileAsync(id)));
        (exit, output, error) = await CliAsync("update", "--third-party-id", id.Value, "--remove", "e");
        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");
        Assert.Equal(["f"], Names(await client.GetProfileAsync(id)));

        (exit, _, error) = await CliAsync("update", "--third-party-id", id.Value);
        Assert.Equal(CliApp.BadInput, exit);
        Assert.Contains("--remove", error, StringComparison.Ordinal);

        // A name set twice (before: the first value silently dropped) or set and removed (before: the wire's 400 about
        // 'profile.f') is refused here, and nothing changes; a name removed twice is removed.
        (exit, _, error) = await CliAsync("update", "--third-party-id", id.Value, "f=1", "f=2");
        Assert.Equal(CliApp.BadInput, exit);
        Assert.Equal("'f' is given more than once (as 'f=1' and 'f=2'); give each attribute one value. Nothing was sent.", error.TrimEnd());
        (exit, _, error) = await CliAsync("update", "--third-party-id", id.Value, "f=1", "--remove", "f");
        Assert.Equal(CliApp.BadInput, exit);
        Assert.Equal("'f' is both set (f=1) and removed (--remove f); give one of the two. Nothing was sent.", error.TrimEnd());
        Assert.Equal("6", (await client.GetProfileAsync(id))!.Attributes["f"].Value);
        (exit, output, error) = await CliAsync("update", "--third-party-id", id.Value, "--remove", "f", "--remove", "f");
        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");
        Assert.Empty(Names(await client.GetProfileAsync(id)));
    }

    [SkippableFact]
    public async Task Bulk_upload_remove_empty_turns_empty_csv_cells_into_removals_and_without_it_they_are_ignored()
    {
        SkipWithoutStore();
        using var services = Services(_client);
        var client = services.GetRequiredService<ProfileUpdateClient>();
        var (full, shortRow) = (ProfileId.ThirdParty(Wire.NewId()), ProfileId.ThirdParty(Wire.NewId()));
        foreach (var id in new[] { full, shortRow })
            await client.VisitAsync("s1", thirdPartyId: id.Value, profileParameters: new Dictionary<string, string> { ["a"] = "1", ["b"] = "2", ["c"] = "3" });
        // An empty cell, then a trailing quoted empty cell; a short row omits its last cells.
        var csv = Csv("thirdPartyId,a,b,c", $"{full.Value},,x,\"\"", $"{shortRow.Value},y");

        var (exit, output, error) = await CliAsync("bulk", "upload", csv, "--v1", "--wait");
        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");
        Assert.Equal(["a", "b", "c"], Names(await client.GetProfileAsync(full)));

        (exit, output, error) = await CliAsync("bulk", "upload", csv, "--v1", "--wait", "--remove-empty");
        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");
        var after = (await client.GetProfileAsync(full))!;
        Assert.Equal(["b"], Names(after));
        Assert.Equal("x", after.Attributes["b"].Value);
        var kept = (await client.GetProfileAsync(shortRow))!;
        Assert.Equal(["a", "b", "c"], Names(kept));
        Assert.Equal("y", kept.Attributes["a"].Value);

        // The client's own option, on a batch file.
        using var batch = new MemoryStream(Encoding.UTF8.GetBytes($"batch=thirdPartyId,a,b\n{shortRow.Value},,\n"));
        await client.SubmitBatchAsync(batch, new BatchSubmitOptions { CreateMissing = false, RemoveEmpty = true, Wait = true });
        Assert.Equal(["c"], Names(await client.GetProfileAsync(shortRow)));
    }

    [SkippableFact]
    public async Task The_client_deletes_by_tnt_id_and_by_third_party_id_then_reads_answer_404_and_a_second_delete_is_not_found()
    {
        SkipWithoutStore();
        using var services = Services(_client);
        var client = services.GetRequiredService<ProfileUpdateClient>();
        var byTnt = await client.VisitAsync("s1", thirdPartyId: Wire.NewId(), profileParameters: new Dictionary<string, string> { ["a"] = "1" });
        var byThird = await client.VisitAsync("s1", thirdPartyId: Wire.NewId(), profileParameters: new Dictionary<string, string> { ["a"] = "2" });

        Assert.Equal(DeleteOutcome.Deleted, await client.DeleteProfileAsync(ProfileId.Tnt(byTnt.TntId)));
        Assert.Null(await client.GetProfileAsync(ProfileId.Tnt(byTnt.TntId)));
        Assert.Null(await client.GetProfileAsync(ProfileId.ThirdParty(byTnt.ThirdPartyId!)));
        Assert.Equal(DeleteOutcome.NotFound, await client.DeleteProfileAsync(ProfileId.Tnt(byTnt.TntId)));

        Assert.Equal(DeleteOutcome.Deleted, await client.DeleteProfileAsync(ProfileId.ThirdParty(byThird.ThirdPartyId!)));
        Assert.Null(await client.GetProfileAsync(ProfileId.ThirdParty(byThird.ThirdPartyId!)));
        Assert.Null(await client.GetProfileAsync(ProfileId.Tnt(byThird.TntId)));
        Assert.Equal(DeleteOutcome.NotFound, await client.DeleteProfileAsync(ProfileId.ThirdParty(byThird.ThirdPartyId!)));

        var invalid = await Assert.ThrowsAsync<ProfileUpdateException>(() => client.DeleteProfileAsync(ProfileId.ThirdParty("a+b")));
        Assert.Equal(400, invalid.StatusCode);
    }

    [SkippableFact]
    public async Task The_client_submits_a_bulk_erase_and_only_failed_rows_make_it_throw()
    {
        SkipWithoutStore();
        using var services = Services(_client);
        var client = services.GetRequiredService<ProfileUpdateClient>();
        var (kept, gone) = (Wire.NewId(), Wire.NewId());
        foreach (var id in new[] { kept, gone })
            await client.VisitAsync("s1", thirdPartyId: id, profileParameters: new Dictionary<string, string> { ["a"] = "1" });

        using var erase = new MemoryStream(Encoding.UTF8.GetBytes($"batch=thirdPartyId\n{gone}\n{Wire.NewId()}\n"));
        var done = await client.SubmitEraseAsync(erase, new BatchEraseOptions { Wait = true });
        Assert.True(done.Status!.AllApplied);
        Assert.True(done.Status.IsErase);
        Assert.Equal((1L, 1L, 0L), (done.Status.ProfilesDeleted!.Value, done.Status.ProfilesNotFound, done.Status.Failed));
        Assert.Null(await client.GetProfileAsync(ProfileId.ThirdParty(gone)));
        Assert.NotNull(await client.GetProfileAsync(ProfileId.ThirdParty(kept)));
        Assert.Equal(1, (await client.GetBatchStatusAsync(done.BatchId)).ProfilesDeleted);

        using var bad = new MemoryStream(Encoding.UTF8.GetBytes($"batch=thirdPartyId\nbad+id\n"));
        var failed = await Assert.ThrowsAsync<BatchNotAppliedException>(() => client.SubmitEraseAsync(bad, new BatchEraseOptions { Wait = true }));
        Assert.Equal("bad+id", Assert.Single(failed.FailedRows).Id);
        Assert.Equal(0, failed.StatusCode);

        using var update = new MemoryStream(Encoding.UTF8.GetBytes($"batch=thirdPartyId,a\n{kept},2\n"));
        var refused = await Assert.ThrowsAsync<ProfileUpdateException>(() => client.SubmitEraseAsync(update));
        Assert.Equal(400, refused.StatusCode);
        Assert.Contains("'a'", refused.ServerMessage, StringComparison.Ordinal);
        Assert.Equal("1", (await client.GetProfileAsync(ProfileId.ThirdParty(kept)))!.Attributes["a"].Value);
    }

    [SkippableFact]
    public async Task Cli_delete_by_either_id_deletes_and_a_missing_profile_exits_0_saying_not_found()
    {
        SkipWithoutStore();
        using var services = Services(_client);
        var client = services.GetRequiredService<ProfileUpdateClient>();
        var first = await client.VisitAsync("s1", thirdPartyId: Wire.NewId());
        var second = await client.VisitAsync("s1", thirdPartyId: Wire.NewId());

        var (exit, output, error) = await CliAsync("delete", "--third-party-id", first.ThirdPartyId!);
        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");
        Assert.StartsWith("deleted", output, StringComparison.Ordinal);
        Assert.Null(await client.GetProfileAsync(ProfileId.Tnt(first.TntId)));
        (exit, _, error) = await CliAsync("get", "--third-party-id", first.ThirdPartyId!);
        Assert.Equal(CliApp.Failed, exit);
        Assert.Contains("404", error, StringComparison.Ordinal);

        (exit, output, error) = await CliAsync("delete", "--tnt-id", second.TntId);
        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");
        Assert.Null(await client.GetProfileAsync(ProfileId.ThirdParty(second.ThirdPartyId!)));

        (exit, output, error) = await CliAsync("delete", "--tnt-id", second.TntId);
        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");
        Assert.StartsWith("not found", output, StringComparison.Ordinal);

        (exit, _, error) = await CliAsync("delete", "--tnt-id", second.TntId, "--third-party-id", second.ThirdPartyId!);
        Assert.Equal(CliApp.BadInput, exit);
        Assert.Contains("exactly one", error, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Cli_bulk_delete_erases_quoted_ids_with_commas_quotes_reserved_and_non_ascii_characters_exactly()
    {
        SkipWithoutStore();
        var tag = Guid.NewGuid().ToString("N")[..8];
        // Ids the batch format can only carry URL-encoded: a comma, a quote, '&', '=', '%', '?', '#', spaces, any UTF-8.
        string[] erased = [$"Müller, Anna {tag}", $"say \"hi\" {tag}", $"a&b=c%20?#{tag}", $"東京 😀 {tag}"];
        var kept = $"Müller, Anna {tag}-kept";
        var upload = Csv(["thirdPartyId,tier", .. erased.Append(kept).Select(id => $"{Quote(id)},gold")]);
        var (exit, output, error) = await CliAsync("bulk", "upload", upload, "--wait");
        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");

        var list = Csv(["mbox3rdPartyId", .. erased.Select(Quote), "", Quote($"never stored, {tag}")]);
        (exit, output, error) = await CliAsync("bulk", "delete", list, "--wait");

        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");
        Assert.Contains("5 rows in 1 batch(es): 4 profiles deleted, 1 not found", output, StringComparison.Ordinal);
        using var services = Services(_client);
        var client = services.GetRequiredService<ProfileUpdateClient>();
        foreach (var id in erased)
            Assert.Null(await client.GetProfileAsync(ProfileId.ThirdParty(id)));
        Assert.Equal("gold", (await client.GetProfileAsync(ProfileId.ThirdParty(kept)))!.Attributes["tier"].Value);
    }

    [SkippableFact]
    public async Task Cli_bulk_delete_of_2500_ids_against_a_1000_row_service_sends_three_batches_and_every_profile_is_gone()
    {
        SkipWithoutStore();
        var tag = Guid.NewGuid().ToString("N")[..8];
        var ids = Enumerable.Range(1, 2500).Select(i => $"erase-{tag}-{i}").ToList();
        var (exit, output, error) = await CliAsync("bulk", "upload", Csv(["thirdPartyId,n", .. ids.Select(id => $"{id},1")]), "--max-rows", "1000", "--wait");
        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");
        var list = Csv(["thirdPartyId", .. ids]);

        (exit, output, error) = await CliAsync("bulk", "delete", list, "--max-rows", "1000", "--wait");

        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");
        Assert.Contains("2,500 rows in 3 batch(es): 2,500 profiles deleted, 0 not found", output, StringComparison.Ordinal);
        // Every one gone, as the service counts it: the same list again finds none of them.
        (exit, output, error) = await CliAsync("bulk", "delete", list, "--max-rows", "1000", "--wait");
        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");
        Assert.Contains("2,500 rows in 3 batch(es): 0 profiles deleted, 2,500 not found", output, StringComparison.Ordinal);
        using var services = Services(_client);
        var client = services.GetRequiredService<ProfileUpdateClient>();
        foreach (var i in new[] { 0, 999, 1000, 1999, 2000, 2499 })
            Assert.Null(await client.GetProfileAsync(ProfileId.ThirdParty(ids[i])));
    }

    [SkippableFact]
    public async Task Cli_bulk_delete_refuses_an_extra_column_or_a_second_cell_anywhere_before_sending_anything()
    {
        SkipWithoutStore();
        using var services = Services(_client);
        var client = services.GetRequiredService<ProfileUpdateClient>();
        var (first, second) = (Wire.NewId(), Wire.NewId());
        foreach (var id in new[] { first, second })
            await client.VisitAsync("s1", thirdPartyId: id, profileParameters: new Dictionary<string, string> { ["a"] = "1" });

        var (exit, output, error) = await CliAsync("bulk", "delete", Csv("thirdPartyId,tier", $"{first},gold", $"{second},gold"), "--wait");
        Assert.Equal(CliApp.BadInput, exit);
        Assert.Contains("'tier'", error, StringComparison.Ordinal);
        Assert.DoesNotContain("batch", output, StringComparison.Ordinal);

        // The stray cell is on the last line, after a valid id, and in a later part: still nothing is sent.
        (exit, output, error) = await CliAsync("bulk", "delete", Csv("thirdPartyId", first, $"{second},x"), "--max-rows", "1", "--wait");
        Assert.Equal(CliApp.BadInput, exit);
        Assert.Contains("CSV line 3 has 2 cells", error, StringComparison.Ordinal);
        Assert.DoesNotContain("batch", output, StringComparison.Ordinal);

        foreach (var id in new[] { first, second })
            Assert.NotNull(await client.GetProfileAsync(ProfileId.ThirdParty(id)));
    }

    [SkippableFact]
    public async Task Cli_bulk_delete_exits_1_listing_failed_rows_by_csv_line()
    {
        SkipWithoutStore();
        var (exit, output, error) = await CliAsync("bulk", "delete", Csv("pcId", Wire.NewId(), "bad+id"), "--wait");

        Assert.Equal(CliApp.Failed, exit);
        Assert.Contains("row 3: bad+id:", error, StringComparison.Ordinal);
        Assert.Contains("0 profiles deleted, 1 not found (nothing stored for them), 1 failed", output, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task With_the_feed_off_the_client_and_cli_changes_fail_with_the_servers_message_naming_the_setting()
    {
        SkipWithoutStore();
        using var services = Services(_client);
        var client = services.GetRequiredService<ProfileUpdateClient>();

        var page = await Assert.ThrowsAsync<ProfileUpdateException>(() => client.ReadChangesAsync());
        Assert.Equal(404, page.StatusCode);
        Assert.Contains("ProfileUpdate__Changes__Enabled", page.ServerMessage, StringComparison.Ordinal);
        var followed = await Assert.ThrowsAsync<ProfileUpdateException>(async () =>
        {
            await foreach (var _ in client.FollowChangesAsync()) Assert.Fail("an entry from a feed that is off");
        });
        Assert.Equal((404, page.ServerMessage), (followed.StatusCode, followed.ServerMessage));

        foreach (var args in new[] { new[] { "changes" }, ["changes", "--follow"], ["changes", "--json"] })
        {
            var (exit, output, error) = await CliAsync(args);
            Assert.Equal(CliApp.Failed, exit);
            Assert.Equal("", output);
            Assert.StartsWith("404: ", error, StringComparison.Ordinal);
            Assert.Contains("ProfileUpdate__Changes__Enabled", error, StringComparison.Ordinal);
        }
    }

    [SkippableFact]
    public async Task The_client_and_cli_update_percent_encode_ids_names_and_values_so_spaces_plus_reserved_and_non_ascii_round_trip()
    {
        SkipWithoutStore();
        using var services = Services(_client);
        var client = services.GetRequiredService<ProfileUpdateClient>();
        // An id may hold anything but '+' and '/'; a form body writing a space as '+' made the service refuse it (400).
        var id = ProfileId.ThirdParty($"john doe & co=1 100% Köln 東京 {Guid.NewGuid():N}");
        await client.VisitAsync("s1", thirdPartyId: id.Value);
        var set = new Dictionary<string, string>
        {
            ["a b"] = "john doe",
            ["x+y"] = "1 + 1 = 2 & 100% ",
            ["k&v=%"] = "a&b=c%20d",
            ["名前"] = "Müller 😀",
        };

        Assert.Equal(UpdateOutcome.Applied, await client.UpdateAsync(id, set));

        var stored = (await client.GetProfileAsync(id))!.Attributes;
        foreach (var (name, value) in set)
            Assert.Equal(value, stored[name].Value);
        var (exit, output, error) = await CliAsync("update", "--third-party-id", id.Value, "with space=a + b", "--remove", "a b");
        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");
        stored = (await client.GetProfileAsync(id))!.Attributes;
        Assert.Equal("a + b", stored["with space"].Value);
        Assert.False(stored.ContainsKey("a b"));
    }

    [SkippableFact]
    public async Task Bulk_upload_of_a_csv_that_is_not_utf8_exits_2_naming_the_line_and_sends_nothing()
    {
        SkipWithoutStore();
        var (first, second) = (Wire.NewId(), Wire.NewId());
        // Latin-1 "Müller" on line 3: decoded leniently it would be stored as "M\uFFFDller" and the upload exit 0.
        var path = Csv("x");
        File.WriteAllBytes(path, [.. Encoding.ASCII.GetBytes($"thirdPartyId,name\r\n{first},ok\r\n{second},M"), 0xFC, .. "ller\r\n"u8]);

        var (exit, output, error) = await CliAsync("bulk", "upload", path, "--wait");

        Assert.Equal(CliApp.BadInput, exit);
        Assert.Contains("CSV line 3 is not valid UTF-8", error, StringComparison.Ordinal);
        Assert.DoesNotContain("batch", output, StringComparison.Ordinal);
        using var services = Services(_client);
        var client = services.GetRequiredService<ProfileUpdateClient>();
        Assert.Null(await client.GetProfileAsync(ProfileId.ThirdParty(first)));

        // A UTF-8 BOM is still fine, and so is the same name as UTF-8.
        File.WriteAllBytes(path, [.. Encoding.UTF8.Preamble, .. Encoding.UTF8.GetBytes($"thirdPartyId,name\r\n{first},ok\r\n{second},Müller\r\n")]);
        (exit, output, error) = await CliAsync("bulk", "upload", path, "--wait");
        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");
        Assert.Equal("Müller", (await client.GetProfileAsync(ProfileId.ThirdParty(second)))!.Attributes["name"].Value);
    }

    [Fact]
    public async Task The_utf8_check_of_a_large_csv_passes_sequences_cut_by_its_read_buffers_and_names_the_line_of_an_error()
    {
        // 3-byte and 4-byte characters on every row of a file far larger than the check's 64 KB buffer: some sequences
        // are cut by a buffer's end, which must not read as an error; then one bad byte on line 20,001.
        var rows = Enumerable.Range(0, 30_000).Select(i => $"id-{i},東京😀{new string('x', i % 7)}").ToList();
        var path = Csv(["thirdPartyId,name", .. rows]);
        var parts = Directory.CreateTempSubdirectory("pu-utf8-parts-").FullName;
        var (exit, output, error) = await CliAsync("bulk", "convert", path, "--out", parts);
        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");

        var bytes = File.ReadAllBytes(path);
        var at = 0;
        for (var line = 1; line < 20_001; line++) at = Array.IndexOf(bytes, (byte)'\n', at) + 1;
        bytes[at + 3] = 0xFF; // inside "id-19999"
        File.WriteAllBytes(path, bytes);
        (exit, output, error) = await CliAsync("bulk", "convert", path, "--out", Directory.CreateTempSubdirectory("pu-utf8-parts-").FullName);
        Assert.Equal(CliApp.BadInput, exit);
        Assert.Contains("CSV line 20001 is not valid UTF-8", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_utf16_csv_with_or_without_a_bom_little_or_big_endian_converts_to_the_very_batches_of_its_utf8_twin()
    {
        // A "Unicode" CSV is UTF-16 LE with a BOM; some exporters write UTF-16 without one. Characters outside the BMP are
        // surrogate pairs there: with ten on each row, nearly every 64 KB buffer end (the check's and the reader's) of a
        // file this large cuts one. A quoted cell holds a comma, quotes and a line break.
        var emoji = string.Concat(Enumerable.Repeat("😀", 10));
        var lines = new List<string> { "thirdPartyId,name,note" };
        lines.AddRange(Enumerable.Range(0, 30_000).Select(i => $"id-{i},Müller 東京{emoji}{new string('x', i % 7)},\"a, b\nc \"\"q\"\"\""));
        var text = string.Join("\r\n", lines) + "\r\n";
        var twins = new Encoding[]
            {
                new UTF8Encoding(false), new UTF8Encoding(true), Encoding.Unicode, Encoding.BigEndianUnicode,
                new UnicodeEncoding(bigEndian: false, byteOrderMark: false), new UnicodeEncoding(bigEndian: true, byteOrderMark: false),
            }
            .Select(encoding => CsvIn(encoding, text)).ToList();
        Assert.Equal([0xFF, 0xFE], File.ReadAllBytes(twins[2])[..2]);
        Assert.Equal([0xFE, 0xFF], File.ReadAllBytes(twins[3])[..2]);
        Assert.Equal([(byte)'t', 0, (byte)'h', 0], File.ReadAllBytes(twins[4])[..4]);
        Assert.Equal([0, (byte)'t', 0, (byte)'h'], File.ReadAllBytes(twins[5])[..4]);

        var converted = new List<string[]>();
        foreach (var path in twins)
        {
            var parts = Directory.CreateTempSubdirectory("pu-utf16-parts-").FullName;
            var (exit, output, error) = await CliAsync("bulk", "convert", path, "--out", parts);
            Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");
            converted.Add([.. Directory.GetFiles(parts).Order(StringComparer.Ordinal).Select(File.ReadAllText)]);
        }
        Assert.NotEmpty(converted[0]);
        Assert.StartsWith($"batch=thirdPartyId,name,note\nid-0,M%C3%BCller%20%E6%9D%B1%E4%BA%AC{string.Concat(Enumerable.Repeat("%F0%9F%98%80", 10))},a%2C%20b%0Ac%20%22q%22\n", converted[0][0], StringComparison.Ordinal);
        Assert.All(converted.Skip(1), other => Assert.Equal(converted[0], other));
    }

    [Fact]
    public async Task A_utf16_csv_that_is_not_valid_or_a_utf32_one_exits_2_saying_what_to_do()
    {
        // A lone high surrogate (half of an emoji) on line 3.
        var path = Utf16LeUnits("thirdPartyId,name\r\nid-1,ok\r\nid-2,\uD83D!\r\n", bom: true);
        Assert.Contains("CSV line 3 is not valid UTF-16 (bytes 69-70 of the file: a high surrogate without its low half); save the file as UTF-8.",
            await ConvertRefusedAsync(path), StringComparison.Ordinal);

        // A file cut in the middle of a character.
        path = CsvIn(Encoding.BigEndianUnicode, "thirdPartyId,name\nid-1,ok\n");
        File.WriteAllBytes(path, [.. File.ReadAllBytes(path), 0x00]);
        Assert.Contains("CSV line 3 is not valid UTF-16: the file ends in the middle of a character", await ConvertRefusedAsync(path), StringComparison.Ordinal);

        var error = await ConvertRefusedAsync(CsvIn(Encoding.UTF32, "thirdPartyId,name\nid-1,ok\n"));
        Assert.Contains("The file is UTF-32", error, StringComparison.Ordinal);
        Assert.Contains("save it as UTF-8", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_utf16_csv_without_a_bom_that_is_not_valid_or_a_header_with_a_nul_byte_exits_2_naming_the_encoding()
    {
        // Read as UTF-16 without its BOM, so checked as UTF-16: the lone high surrogate on line 3 is named as such, its
        // bytes counted from the file's first (two fewer than after a BOM).
        var path = Utf16LeUnits("thirdPartyId,name\r\nid-1,ok\r\nid-2,\uD83D!\r\n", bom: false);
        Assert.Contains("CSV line 3 is not valid UTF-16 (bytes 67-68 of the file: a high surrogate without its low half); save the file as UTF-8.",
            await ConvertRefusedAsync(path), StringComparison.Ordinal);

        path = CsvIn(new UnicodeEncoding(bigEndian: true, byteOrderMark: false), "thirdPartyId,name\nid-1,ok\n");
        File.WriteAllBytes(path, [.. File.ReadAllBytes(path), 0x00]);
        Assert.Contains("CSV line 3 is not valid UTF-16: the file ends in the middle of a character", await ConvertRefusedAsync(path), StringComparison.Ordinal);

        // UTF-32 without its BOM has no UTF-16 pattern (three NULs to a letter) and is refused at its first NUL, saying
        // the file is not UTF-8 rather than quoting a header full of NULs.
        var error = await ConvertRefusedAsync(CsvIn(new UTF32Encoding(bigEndian: false, byteOrderMark: false), "thirdPartyId,name\nid-1,ok\n"));
        Assert.Contains("CSV line 1 holds a NUL byte (byte 2 of the file), so the file is not UTF-8 text (it may be UTF-16 or UTF-32); save it as UTF-8", error, StringComparison.Ordinal);
        error = await ConvertRefusedAsync(Csv("thirdPartyId,na\0me", "id-1,ok"));
        Assert.Contains("CSV line 1 holds a NUL byte (byte 16 of the file)", error, StringComparison.Ordinal);

        // A NUL in a data row of a UTF-8 file is the row's problem, as before (the service fails that row): it converts.
        var (exit, output, rowError) = await CliAsync("bulk", "convert", Csv("thirdPartyId,name", "id-1,a\0b"), "--out",
            Directory.CreateTempSubdirectory("pu-utf16-parts-").FullName);
        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{rowError}");
    }

    [SkippableTheory]
    [InlineData(false, true)] // a "Unicode" CSV
    [InlineData(false, false)]
    [InlineData(true, false)]
    public async Task Bulk_upload_and_delete_of_a_utf16_csv_with_or_without_a_bom_store_and_erase_as_utf8(bool bigEndian, bool bom)
    {
        SkipWithoutStore();
        var encoding = new UnicodeEncoding(bigEndian, bom);
        var (first, second) = (Wire.NewId(), Wire.NewId());
        var path = CsvIn(encoding, $"thirdPartyId,name\r\n{first},Müller\r\n{second},\"東京 😀, ok\"\r\n");

        var (exit, output, error) = await CliAsync("bulk", "upload", path, "--wait");

        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");
        using var services = Services(_client);
        var client = services.GetRequiredService<ProfileUpdateClient>();
        Assert.Equal("Müller", (await client.GetProfileAsync(ProfileId.ThirdParty(first)))!.Attributes["name"].Value);
        Assert.Equal("東京 😀, ok", (await client.GetProfileAsync(ProfileId.ThirdParty(second)))!.Attributes["name"].Value);

        // A one-column erase list in the same encoding: its only cells are ids.
        (exit, output, error) = await CliAsync("bulk", "delete", CsvIn(encoding, $"thirdPartyId\n{first}\n{second}\n"), "--wait");
        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");
        Assert.Null(await client.GetProfileAsync(ProfileId.ThirdParty(first)));
        Assert.Null(await client.GetProfileAsync(ProfileId.ThirdParty(second)));
    }

    [SkippableFact]
    public async Task Bulk_upload_and_delete_of_a_csv_with_a_stray_or_unclosed_quote_exit_2_naming_the_line_and_send_nothing()
    {
        SkipWithoutStore();
        // Before: Sep's lenient reading took every line after the stray quote into tv1's cell; exit 0, "1 applied".
        var (first, second, third) = (Wire.NewId(), Wire.NewId(), Wire.NewId());
        var inch = Csv("thirdPartyId,size", $"{first},55\" screen", $"{second},65 inch", $"{third},42 inch");

        var (exit, output, error) = await CliAsync("bulk", "upload", inch, "--wait");

        Assert.True(exit == CliApp.BadInput, $"exit {exit}: {output}{error}");
        Assert.StartsWith("CSV line 2, column 2: a quote (\") inside a cell that does not start with one", error, StringComparison.Ordinal);
        Assert.Single(error.TrimEnd().Split('\n'));
        Assert.DoesNotContain("batch", output, StringComparison.Ordinal);
        using var services = Services(_client);
        var client = services.GetRequiredService<ProfileUpdateClient>();
        foreach (var id in new[] { first, second, third })
            Assert.Null(await client.GetProfileAsync(ProfileId.ThirdParty(id)));

        // An erase list is read as strictly: a quote never closed takes nothing with it, and nothing is deleted.
        await client.VisitAsync("s1", thirdPartyId: first);
        (exit, output, error) = await CliAsync("bulk", "delete", Csv("thirdPartyId", first, $"\"{second}", third), "--wait");
        Assert.True(exit == CliApp.BadInput, $"exit {exit}: {output}{error}");
        Assert.Contains("CSV line 3, column 1: a quoted cell is never closed", error, StringComparison.Ordinal);
        Assert.NotNull(await client.GetProfileAsync(ProfileId.ThirdParty(first)));
    }

    [Theory]
    [InlineData("thirdPartyId,size\ntv1,55\" screen\ntv2,65 inch\n", "CSV line 2, column 2: a quote (\") inside a cell that does not start with one")]
    [InlineData("thirdPartyId,a\nq1,\"unterminated\nq2,2\n", "CSV line 2, column 2: a quoted cell is never closed")]
    [InlineData("thirdPartyId,a,b\r\nq1,\"x\"y,2\r\n", "CSV line 2, column 2: text after the closing quote of a quoted cell")]
    [InlineData("thirdPartyId,a\nq1,\"multi\nline\"\nq2, \"x\"\n", "CSV line 4, column 2: a quote (\") inside a cell")]
    [InlineData("\uFEFFthirdPartyId,a\"\nq1,1\n", "CSV line 1, column 2: a quote (\") inside a cell")]
    [InlineData("thirdPartyId,a,a\nd1,1,2\n", "The header names column 'a' twice (columns 2 and 3)")]
    [InlineData("\"thirdPartyId\",\"a\",\"a\"\nd1,1,2\n", "The header names column 'a' twice (columns 2 and 3)")]
    public async Task Convert_refuses_a_csv_that_is_not_rfc_4180_or_names_a_column_twice_with_exit_2_and_one_line(string text, string expected)
    {
        // Upload and delete read through the same splitter; convert needs no service. Also as UTF-16: the check runs on
        // the decoded characters.
        foreach (var encoding in new Encoding[] { new UTF8Encoding(false), Encoding.Unicode })
        {
            var (exit, output, error) = await CliAsync("bulk", "convert", CsvIn(encoding, text), "--out", Directory.CreateTempSubdirectory("pu-quote-parts-").FullName);
            Assert.True(exit == CliApp.BadInput, $"exit {exit}: {output}{error}");
            Assert.StartsWith(expected, error, StringComparison.Ordinal);
            Assert.EndsWith("Nothing was sent.", error.TrimEnd(), StringComparison.Ordinal);
            Assert.Single(error.TrimEnd().Split('\n'));
        }
    }

    [Fact]
    public async Task Convert_keeps_quoted_cells_with_doubled_quotes_line_breaks_commas_and_a_quoted_header_after_a_bom()
    {
        var parts = Directory.CreateTempSubdirectory("pu-quote-parts-").FullName;
        var path = CsvIn(new UTF8Encoding(true), "\"thirdPartyId\",\"na,me\"\r\nq1,\"55\"\" screen\"\r\nq2,\"a\r\nb\"\r\n\r\nq3,\"\"\r\n");

        var (exit, output, error) = await CliAsync("bulk", "convert", path, "--out", parts);

        Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");
        Assert.Contains("CSV lines 2-6", output, StringComparison.Ordinal);
        Assert.Equal("batch=thirdPartyId,na%2Cme\nq1,55%22%20screen\nq2,a%0D%0Ab\nq3,\n", File.ReadAllText(Assert.Single(Directory.GetFiles(parts))));
    }

    [SkippableFact]
    public async Task Bulk_commands_given_a_missing_file_or_limits_below_1_exit_2_with_one_line_and_send_nothing()
    {
        SkipWithoutStore();
        var missing = Path.Combine(Path.GetTempPath(), $"profile-update-missing-{Guid.NewGuid():N}.csv");
        foreach (var command in new[] { "upload", "delete" })
        {
            var (exit, output, error) = await CliAsync("bulk", command, missing, "--wait");
            Assert.True(exit == CliApp.BadInput, $"exit {exit}: {output}{error}");
            Assert.Contains(missing, error, StringComparison.Ordinal);
            Assert.Single(error.TrimEnd().Split('\n'));
        }

        var id = Wire.NewId();
        var csv = Csv("thirdPartyId,a", $"{id},1");
        foreach (var (option, value) in new[] { ("--max-rows", "0"), ("--max-bytes", "0"), ("--max-rows", "-1") })
        {
            var (exit, output, error) = await CliAsync("bulk", "upload", csv, option, value, "--wait");
            Assert.True(exit == CliApp.BadInput, $"{option} {value}: exit {exit}: {output}{error}");
            Assert.Contains($"{option} must be 1 or more", error, StringComparison.Ordinal);
        }
        using var services = Services(_client);
        Assert.Null(await services.GetRequiredService<ProfileUpdateClient>().GetProfileAsync(ProfileId.ThirdParty(id)));
    }

    private static string Quote(string cell) => $"\"{cell.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    private static string[] Names(Profile? profile) => [.. profile!.Attributes.Keys.Order(StringComparer.Ordinal)];

    private ServiceProvider Services(string client) =>
        new ServiceCollection().AddProfileUpdateClient(o => (o.BaseAddress, o.Client) = (service.Url, client)).Services.BuildServiceProvider();

    private Task<(int Exit, string Output, string Error)> CliAsync(params string[] args) => CliForAsync(_client, args);

    private Task<(int Exit, string Output, string Error)> CliForAsync(string client, params string[] args) =>
        ClientCli.RunAsync([.. args, "--url", service.Url.ToString(), "--client", client]);

    /// <summary>Exit 2 from <c>bulk convert</c> of <paramref name="path"/>: its error output.</summary>
    private async Task<string> ConvertRefusedAsync(string path)
    {
        var (exit, _, error) = await CliAsync("bulk", "convert", path, "--out", Directory.CreateTempSubdirectory("pu-utf16-parts-").FullName);
        Assert.Equal(CliApp.BadInput, exit);
        return error;
    }

    /// <summary>
    /// A CSV file of <paramref name="text"/> as UTF-16 LE code units written one by one, with a BOM or not: an Encoding
    /// would write a lone surrogate as U+FFFD.
    /// </summary>
    private string Utf16LeUnits(string text, bool bom)
    {
        var path = CsvIn(Encoding.Unicode, "");
        File.WriteAllBytes(path, [.. bom ? [0xFF, 0xFE] : Array.Empty<byte>(), .. text.SelectMany(c => new[] { (byte)c, (byte)(c >> 8) })]);
        return path;
    }

    /// <summary>A CSV file of <paramref name="text"/> in <paramref name="encoding"/>, its BOM (preamble) first when it has one.</summary>
    private string CsvIn(Encoding encoding, string text)
    {
        var path = Path.Combine(Path.GetTempPath(), $"profile-update-test-{Guid.NewGuid():N}.csv");
        _files.Add(path);
        File.WriteAllBytes(path, [.. encoding.GetPreamble(), .. encoding.GetBytes(text)]);
        return path;
    }

    private string Csv(params string[] lines)
    {
        var path = Path.Combine(Path.GetTempPath(), $"profile-update-test-{Guid.NewGuid():N}.csv");
        _files.Add(path);
        File.WriteAllText(path, string.Join("\r\n", lines) + "\r\n", new UTF8Encoding(false));
        return path;
    }
}

public sealed class ClientAndCliOnRedis(SmallBatchServiceOnRedis service) : ClientAndCliContract(service), IClassFixture<SmallBatchServiceOnRedis>;

public sealed class ClientAndCliOnEmbeddedStore(SmallBatchServiceOnEmbeddedStore service) : ClientAndCliContract(service), IClassFixture<SmallBatchServiceOnEmbeddedStore>;

/// <summary>The CLI's entry point in-process with captured output (never a terminal: plain lines).</summary>
internal static class ClientCli
{
    public static async Task<(int Exit, string Output, string Error)> RunAsync(string[] args, Action<ProfileUpdateClientOptions>? configure = null)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await CliApp.RunAsync(args, output, error, interactive: false, configure);
        return (exit, output.ToString(), error.ToString());
    }
}

/// <summary>Tokens and quota: clients configured, so only they are served (docs/api.md §5).</summary>
public sealed class ClientResilienceTests : IDisposable
{
    private const string Token = "client-cli-token-0123456789";
    private readonly string _secured = Wire.NewClient();
    private readonly string _limited = Wire.NewClient();
    private readonly ServiceFactory _factory;

    public ClientResilienceTests() =>
        _factory = new ServiceFactory(null, new Dictionary<string, string?>
        {
            [$"ProfileUpdate:Clients:{_secured}:Tokens:0"] = Token,
            [$"ProfileUpdate:Clients:{_limited}:QuotaLimit"] = "1",
        });

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task A_wrong_token_fails_with_a_message_naming_401()
    {
        var url = _factory.BaseAddress.ToString();
        var (exit, _, error) = await ClientCli.RunAsync(["get", "--third-party-id", "x", "--url", url, "--client", _secured, "--token", "wrong-token-wrong-token"]);
        Assert.Equal(CliApp.Failed, exit);
        Assert.StartsWith("401: ", error, StringComparison.Ordinal);

        (exit, _, error) = await ClientCli.RunAsync(["get", "--third-party-id", "x", "--url", url, "--client", _secured, "--token", Token]);
        Assert.Equal(CliApp.Failed, exit);
        Assert.Contains("404", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Delete_and_bulk_delete_with_a_wrong_token_fail_naming_401_and_delete_nothing()
    {
        var url = _factory.BaseAddress.ToString();
        using var services = new ServiceCollection().AddProfileUpdateClient(o => (o.BaseAddress, o.Client, o.Token) = (_factory.BaseAddress, _secured, Token))
            .Services.BuildServiceProvider();
        var client = services.GetRequiredService<ProfileUpdateClient>();
        var id = Wire.NewId();
        await client.VisitAsync("s1", thirdPartyId: id);
        var list = Path.Combine(Path.GetTempPath(), $"profile-update-test-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(list, $"thirdPartyId\n{id}\n");
        try
        {
            var (exit, _, error) = await ClientCli.RunAsync(["delete", "--third-party-id", id, "--url", url, "--client", _secured, "--token", "wrong-token-wrong-token"]);
            Assert.Equal(CliApp.Failed, exit);
            Assert.StartsWith("401: ", error, StringComparison.Ordinal);

            (exit, _, error) = await ClientCli.RunAsync(["bulk", "delete", list, "--wait", "--url", url, "--client", _secured, "--token", "wrong-token-wrong-token"]);
            Assert.Equal(CliApp.Failed, exit);
            Assert.StartsWith("401: ", error, StringComparison.Ordinal);
            Assert.NotNull(await client.GetProfileAsync(ProfileId.ThirdParty(id)));

            (exit, var output, error) = await ClientCli.RunAsync(["bulk", "delete", list, "--wait", "--url", url, "--client", _secured, "--token", Token]);
            Assert.True(exit == CliApp.Ok, $"exit {exit}: {output}{error}");
            Assert.Null(await client.GetProfileAsync(ProfileId.ThirdParty(id)));
        }
        finally
        {
            File.Delete(list);
        }
    }

    [Fact]
    public async Task Changes_with_a_wrong_token_fail_naming_401_for_pages_and_follow()
    {
        var url = _factory.BaseAddress.ToString();
        foreach (var args in new[] { new[] { "changes" }, ["changes", "--follow"] })
        {
            var (exit, output, error) = await ClientCli.RunAsync([.. args, "--url", url, "--client", _secured, "--token", "wrong-token-wrong-token"]);
            Assert.Equal(CliApp.Failed, exit);
            Assert.Equal("", output);
            Assert.StartsWith("401: ", error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_429_whose_retry_after_exceeds_max_retry_delay_surfaces_at_once_with_its_retry_after()
    {
        var notices = new List<RetryNotice>();
        using var services = new ServiceCollection().AddProfileUpdateClient(o =>
        {
            (o.BaseAddress, o.Client, o.MaxRetryAttempts) = (_factory.BaseAddress, _limited, 3);
            o.OnRetry = notices.Add;
        }).Services.BuildServiceProvider();
        var client = services.GetRequiredService<ProfileUpdateClient>();
        var id = Wire.NewId();
        await client.VisitAsync("s1", thirdPartyId: id);
        Assert.Equal(UpdateOutcome.Applied, await client.UpdateAsync(ProfileId.ThirdParty(id), new Dictionary<string, string> { ["a"] = "1" }));

        // The used-up quota says hours: retrying after MaxRetryDelay (30 s) would only be refused again, three times.
        var started = System.Diagnostics.Stopwatch.StartNew();
        var refused = await Assert.ThrowsAsync<ProfileUpdateException>(() => client.UpdateAsync(ProfileId.ThirdParty(id), new Dictionary<string, string> { ["a"] = "2" }));

        Assert.Equal(429, refused.StatusCode);
        Assert.True(refused.RetryAfter > TimeSpan.FromMinutes(1), $"Retry-After {refused.RetryAfter}");
        Assert.Contains("Retry-After", refused.ServerMessage, StringComparison.Ordinal);
        Assert.Empty(notices);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(10), $"took {started.Elapsed}");
    }

    [Fact]
    public async Task A_429_or_503_whose_retry_after_is_within_max_retry_delay_is_retried_up_to_the_configured_attempts()
    {
        var notices = new List<RetryNotice>();
        var answers = new Queue<(System.Net.HttpStatusCode Status, int RetryAfter)>([
            (System.Net.HttpStatusCode.TooManyRequests, 1), (System.Net.HttpStatusCode.ServiceUnavailable, 0), (System.Net.HttpStatusCode.TooManyRequests, 2)]);
        var calls = 0;
        using var services = new ServiceCollection().AddProfileUpdateClient(o =>
        {
            (o.BaseAddress, o.Client, o.MaxRetryAttempts, o.MaxRetryDelay) = (new Uri("http://127.0.0.1:9"), "demo", 2, TimeSpan.FromSeconds(1));
            o.OnRetry = notices.Add;
        }).ConfigurePrimaryHttpMessageHandler(() => new StubHandler(_ =>
        {
            calls++;
            var (status, retryAfter) = answers.Dequeue();
            var answer = new HttpResponseMessage(status) { Content = new StringContent("""{"message":"busy"}""", Encoding.UTF8, "application/problem+json") };
            answer.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(retryAfter));
            return answer;
        })).Services.BuildServiceProvider();
        var client = services.GetRequiredService<ProfileUpdateClient>();

        // 1 s and 0 s are within MaxRetryDelay: retried; the third answer's 2 s is not, and it surfaces at once.
        var refused = await Assert.ThrowsAsync<ProfileUpdateException>(() => client.UpdateAsync(ProfileId.ThirdParty("x"), new Dictionary<string, string> { ["a"] = "1" }));

        Assert.Equal((429, TimeSpan.FromSeconds(2)), (refused.StatusCode, refused.RetryAfter));
        Assert.Equal(3, calls);
        Assert.Equal([new RetryNotice(1, 429, TimeSpan.FromSeconds(1)), new RetryNotice(2, 503, TimeSpan.Zero)], notices);
    }

    [Fact]
    public async Task A_503_is_not_retried_for_a_visit_without_ids_but_is_for_visits_with_an_id_and_for_updates()
    {
        // A store 503 says "not acknowledged": the visit may have created its profile all the same. Retried, a visit
        // without ids created a second profile (an orphan); one with an id finds the first one again, as an update does.
        var requests = new List<string>();
        var answers = new Queue<System.Net.HttpStatusCode>();
        using var services = new ServiceCollection().AddProfileUpdateClient(o =>
        {
            (o.BaseAddress, o.Client, o.MaxRetryAttempts, o.MaxRetryDelay) = (new Uri("http://127.0.0.1:9"), "demo", 3, TimeSpan.FromSeconds(1));
        }).ConfigurePrimaryHttpMessageHandler(() => new StubHandler(request =>
        {
            requests.Add(request.RequestUri!.AbsolutePath);
            var status = answers.Dequeue();
            var answer = status == System.Net.HttpStatusCode.OK
                ? new HttpResponseMessage(status) { Content = new StringContent("""{"id":{"tntId":"t-1.0_0"}}""", Encoding.UTF8, "application/json") }
                : new HttpResponseMessage(status) { Content = new StringContent("""{"message":"may or may not have been stored"}""", Encoding.UTF8, "application/problem+json") };
            answer.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.Zero);
            return answer;
        })).Services.BuildServiceProvider();
        var client = services.GetRequiredService<ProfileUpdateClient>();

        Answer(System.Net.HttpStatusCode.ServiceUnavailable);
        var refused = await Assert.ThrowsAsync<ProfileUpdateException>(() => client.VisitAsync("s1"));
        Assert.Equal((503, 1), (refused.StatusCode, requests.Count));

        // A 429 applies nothing: retried even for a visit without ids.
        Answer(System.Net.HttpStatusCode.TooManyRequests);
        Assert.Equal("t-1.0_0", (await client.VisitAsync("s1")).TntId);
        Assert.Equal(2, requests.Count);

        foreach (var visit in new Func<Task>[] { () => client.VisitAsync("s1", thirdPartyId: "crm-1"), () => client.VisitAsync("s1", tntId: "t-1.0_0") })
        {
            Answer(System.Net.HttpStatusCode.ServiceUnavailable);
            await visit();
            Assert.Equal(2, requests.Count);
        }

        Answer(System.Net.HttpStatusCode.ServiceUnavailable);
        Assert.Equal(UpdateOutcome.Applied, await client.UpdateAsync(ProfileId.ThirdParty("crm-1"), new Dictionary<string, string> { ["a"] = "1" }));
        Assert.Equal(2, requests.Count);

        // The first answer given, then 200; the requests counted afresh.
        void Answer(System.Net.HttpStatusCode first)
        {
            requests.Clear();
            answers.Clear();
            answers.Enqueue(first);
            answers.Enqueue(System.Net.HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task Following_changes_reconnects_after_any_failure_answer_and_ends_only_on_400_401_404_410()
    {
        // Before: only 503/429 reconnected; a proxy's 502 ended the "never gives up" follower with an exception.
        const string Entry = """{"id":"c-1","at":"2026-12-04T07:18:55.725+00:00","kind":"created","tntId":"t-1.0_0","set":{"a":"1"},"removed":[]}""";
        var answers = new Queue<System.Net.HttpStatusCode>();
        var notices = new List<ReconnectNotice>();
        var services = new ServiceCollection();
        services.AddProfileUpdateClient(o =>
        {
            (o.BaseAddress, o.Client, o.MaxReconnectDelay) = (new Uri("http://127.0.0.1:9"), "demo", TimeSpan.FromMilliseconds(10));
            o.OnReconnect = notices.Add;
        });
        services.AddHttpClient(ProfileUpdateClient.StreamClientName).ConfigurePrimaryHttpMessageHandler(() => new StubHandler(_ =>
        {
            var status = answers.Dequeue();
            return status == System.Net.HttpStatusCode.OK
                ? new HttpResponseMessage(status) { Content = new StringContent($"event: created\nid: c-1\ndata: {Entry}\n\n", Encoding.UTF8, "text/event-stream") }
                : new HttpResponseMessage(status) { Content = new StringContent("""{"message":"no"}""", Encoding.UTF8, "application/problem+json") };
        }));
        await using var provider = services.BuildServiceProvider();
        var client = provider.GetRequiredService<ProfileUpdateClient>();

        foreach (var status in new[] { 502, 504, 500, 408, 503, 429, 200 }) answers.Enqueue((System.Net.HttpStatusCode)status);
        await foreach (var entry in client.FollowChangesAsync())
        {
            Assert.Equal("c-1", entry.Id);
            break;
        }
        Assert.Equal(["answered 502", "answered 504", "answered 500", "answered 408", "answered 503", "answered 429"], notices.Select(n => n.Reason));

        foreach (var status in new[] { 400, 401, 404, 410 })
        {
            answers.Clear();
            answers.Enqueue((System.Net.HttpStatusCode)status);
            var ended = await Assert.ThrowsAsync<ProfileUpdateException>(async () =>
            {
                await foreach (var _ in client.FollowChangesAsync()) { }
            });
            Assert.Equal(status, ended.StatusCode);
        }
    }

    [Theory]
    [InlineData("ftp://example.com/")]
    [InlineData("file:///tmp")]
    [InlineData("not-a-url")]
    public async Task A_url_that_is_not_http_or_https_exits_2_with_one_line_naming_it(string url)
    {
        // Before: ftp:// and file:// failed at the first call with NotSupportedException and a stack trace, exit 1.
        var (exit, output, error) = await ClientCli.RunAsync(["get", "--third-party-id", "x", "--url", url, "--client", "demo"]);

        Assert.True(exit == CliApp.BadInput, $"exit {exit}: {output}{error}");
        Assert.Equal($"--url (or PROFILE_UPDATE_URL) must be an absolute http:// or https:// URL such as http://localhost:5000, not '{url}'.", error.TrimEnd());

        using var services = new ServiceCollection().AddProfileUpdateClient(o => (o.BaseAddress, o.Client) = (new Uri(url, UriKind.RelativeOrAbsolute), "demo"))
            .Services.BuildServiceProvider();
        Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => services.GetRequiredService<ProfileUpdateClient>());
    }

    [Theory]
    [InlineData("bulk", "upload", "{csv}", "--wait-timeout", "-00:00:01", "--wait-timeout must not be negative")]
    [InlineData("bulk", "delete", "{csv}", "--wait-timeout", "-00:00:01", "--wait-timeout must not be negative")]
    [InlineData("bulk", "upload", "{csv}", "--wait-timeout", "abc", "abc")]
    [InlineData("bulk", "upload", "{csv}", "--max-rows", "many", "many")]
    [InlineData("changes", "--limit", "abc", "", "", "abc")]
    [InlineData("changes", "--limit", "0", "", "", "--limit must be 1 or more")]
    public async Task Options_that_do_not_parse_or_are_out_of_range_exit_2_naming_the_option_or_value(string a, string b, string c, string d, string e, string named)
    {
        // Before: a value that did not parse exited 1 (System.CommandLine's code, which here means "the service refused"),
        // and a negative --wait-timeout was taken. Nothing listens at the URL: nothing may be sent anyway.
        var csv = Path.Combine(Path.GetTempPath(), $"profile-update-test-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(csv, "thirdPartyId\nx\n");
        try
        {
            string[] args = [.. new[] { a, b, c, d, e }.Where(arg => arg.Length > 0).Select(arg => arg == "{csv}" ? csv : arg), "--url", "http://127.0.0.1:9", "--client", "demo"];
            var (exit, output, error) = await ClientCli.RunAsync(args);
            Assert.True(exit == CliApp.BadInput, $"exit {exit}: {output}{error}");
            Assert.Contains(named, error, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(csv);
        }
    }

    [Theory]
    [InlineData("/api")]
    [InlineData("/api/")]
    [InlineData("/gateway/profile-update")]
    public async Task A_path_prefix_in_the_url_is_kept_with_or_without_a_trailing_slash(string prefix)
    {
        // Before: without the trailing slash the prefix was dropped and the calls went to /rest/… at the host's root.
        var requested = new List<string>();
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var url = $"http://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}{prefix}";
        using var stop = new CancellationTokenSource();
        var answering = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    using var connection = await listener.AcceptTcpClientAsync(stop.Token);
                    var stream = connection.GetStream();
                    var reader = new StreamReader(stream, Encoding.ASCII);
                    requested.Add((await reader.ReadLineAsync(stop.Token))!);
                    while (await reader.ReadLineAsync(stop.Token) is { Length: > 0 }) { }
                    await stream.WriteAsync("HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray(), stop.Token);
                }
            }
            catch (OperationCanceledException) { }
        });
        try
        {
            var (exit, output, error) = await ClientCli.RunAsync(["get", "--third-party-id", "x", "--url", url, "--client", "demo"]);
            Assert.True(exit == CliApp.Failed, $"exit {exit}: {output}{error}");

            using var services = new ServiceCollection().AddProfileUpdateClient(o => (o.BaseAddress, o.Client) = (new Uri(url), "demo")).Services.BuildServiceProvider();
            await Assert.ThrowsAsync<ProfileUpdateException>(() => services.GetRequiredService<ProfileUpdateClient>().ReadChangesAsync());

            var root = prefix.TrimEnd('/');
            Assert.Equal([$"GET {root}/rest/v1/profiles/thirdPartyId/x?client=demo HTTP/1.1", $"GET {root}/rest/v1/changes?client=demo HTTP/1.1"], requested);
        }
        finally
        {
            await stop.CancelAsync();
            await answering;
        }
    }

    [Fact]
    public async Task Get_for_a_client_not_configured_fails_with_the_servers_message_not_profile_not_found()
    {
        var unknown = Wire.NewClient();
        using var services = new ServiceCollection().AddProfileUpdateClient(o => (o.BaseAddress, o.Client) = (_factory.BaseAddress, unknown))
            .Services.BuildServiceProvider();

        var refused = await Assert.ThrowsAsync<ProfileUpdateException>(() => services.GetRequiredService<ProfileUpdateClient>().GetProfileAsync(ProfileId.ThirdParty("x")));
        Assert.Equal(404, refused.StatusCode);
        Assert.Contains($"Client '{unknown}' is not configured", refused.ServerMessage, StringComparison.Ordinal);

        var (exit, output, error) = await ClientCli.RunAsync(["get", "--third-party-id", "x", "--url", _factory.BaseAddress.ToString(), "--client", unknown]);
        Assert.Equal(CliApp.Failed, exit);
        Assert.Equal("", output);
        Assert.StartsWith($"404: Client '{unknown}' is not configured", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_service_that_never_answers_fails_with_a_one_line_timeout_message_not_a_stack_trace()
    {
        // Accepts connections and reads, but never answers.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var url = $"http://127.0.0.1:{((System.Net.IPEndPoint)listener.LocalEndpoint).Port}";
        var held = new List<System.Net.Sockets.TcpClient>();
        using var stop = new CancellationTokenSource();
        var accepting = Task.Run(async () =>
        {
            try
            {
                while (true) held.Add(await listener.AcceptTcpClientAsync(stop.Token));
            }
            catch (OperationCanceledException) { }
        });
        var csv = Path.Combine(Path.GetTempPath(), $"profile-update-test-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(csv, "thirdPartyId,a\nx,1\n");
        try
        {
            var (exit, output, error) = await ClientCli.RunAsync(["get", "--third-party-id", "x", "--url", url, "--client", "demo"], o => o.RequestTimeout = TimeSpan.FromSeconds(1));
            Assert.True(exit == CliApp.Failed, $"exit {exit}: {output}{error}");
            Assert.StartsWith($"The service at {url} did not answer in time", error, StringComparison.Ordinal);
            Assert.Single(error.TrimEnd().Split('\n'));

            (exit, output, error) = await ClientCli.RunAsync(["bulk", "upload", csv, "--wait", "--url", url, "--client", "demo"], o => o.RequestTimeout = TimeSpan.FromSeconds(1));
            Assert.True(exit == CliApp.Failed, $"exit {exit}: {output}{error}");
            Assert.StartsWith($"The service at {url} did not answer in time", error, StringComparison.Ordinal);
            Assert.Contains("CSV lines 2-2 may or may not have been accepted", error, StringComparison.Ordinal);

            // Ctrl-C while the service does not answer: before, exit 1 with nothing on stderr.
            using var ctrlC = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            using var stopped = new StringWriter();
            exit = await CliApp.RunAsync(["bulk", "upload", csv, "--wait", "--url", url, "--client", "demo"], TextWriter.Null, stopped, interactive: false,
                cancellationToken: ctrlC.Token);
            Assert.True(exit == CliApp.Failed, $"exit {exit}: {stopped}");
            Assert.Equal($"Stopped (Ctrl-C) before the service at {url} answered. CSV lines 2-2 may or may not have been accepted (no answer came); the CSV lines after 2 were not sent.",
                stopped.ToString().TrimEnd());
        }
        finally
        {
            await stop.CancelAsync();
            await accepting;
            held.ForEach(c => c.Dispose());
            File.Delete(csv);
        }
    }

    private sealed class StubHandler(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(answer(request));
    }

    [Fact]
    public async Task A_connection_failure_is_never_retried()
    {
        var notices = new List<RetryNotice>();
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // a port nobody listens on: the request may or may not have reached a server, as far as a client knows
        using var services = new ServiceCollection().AddProfileUpdateClient(o =>
            (o.BaseAddress, o.Client, o.OnRetry) = (new Uri($"http://127.0.0.1:{port}"), "demo", notices.Add)).Services.BuildServiceProvider();
        var client = services.GetRequiredService<ProfileUpdateClient>();
        using var batch = new MemoryStream("batch=thirdPartyId,a\nx,1\n"u8.ToArray());

        await Assert.ThrowsAsync<HttpRequestException>(() => client.SubmitBatchAsync(batch));
        Assert.Empty(notices);

        // The CLI says what a refused connection means: nothing was sent (before: "may or may not have been accepted").
        var csv = Path.Combine(Path.GetTempPath(), $"profile-update-test-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(csv, "thirdPartyId\nx\ny\n");
        try
        {
            foreach (var command in new[] { "upload", "delete" })
            {
                var (exit, output, error) = await ClientCli.RunAsync(["bulk", command, csv, "--url", $"http://127.0.0.1:{port}", "--client", "demo"]);
                Assert.True(exit == CliApp.Failed, $"exit {exit}: {output}{error}");
                Assert.EndsWith("No connection could be made, so CSV lines from 2 on were not sent.", error.TrimEnd(), StringComparison.Ordinal);
                Assert.DoesNotContain("may or may not", error, StringComparison.Ordinal);
            }
        }
        finally
        {
            File.Delete(csv);
        }
    }
}

/// <summary>
/// A service that applies batches slowly (50-row chunks, one at a time, a second's rest after each), so a 600-row batch
/// runs for about 12 s: waits that end before it is complete.
/// </summary>
public sealed class SlowBatchCliTests : IDisposable
{
    private readonly string _client = Wire.NewClient();
    private readonly ServiceFactory _factory = new(null, new Dictionary<string, string?>
    {
        ["ProfileUpdate:Bulk:ChunkRows"] = "50",
        ["ProfileUpdate:Bulk:ChunksInFlight"] = "1",
        ["ProfileUpdate:Bulk:PauseBetweenChunks"] = "00:00:01",
        ["ProfileUpdate:Bulk:YieldAboveUpdatesPerSecond"] = "0",
    });
    private readonly string _csv = Path.Combine(Path.GetTempPath(), $"profile-update-test-{Guid.NewGuid():N}.csv");

    public SlowBatchCliTests() =>
        File.WriteAllLines(_csv, ["thirdPartyId,n", .. Enumerable.Range(1, 600).Select(i => $"slow-{Guid.NewGuid():N}-{i},{i}")]);

    public void Dispose()
    {
        File.Delete(_csv);
        _factory.Dispose();
    }

    [Fact]
    public async Task A_wait_timeout_before_the_batch_is_complete_exits_3_with_the_batch_id_rows_consumed_and_how_to_check()
    {
        var (exit, output, error) = await ClientCli.RunAsync(
            ["bulk", "upload", _csv, "--wait", "--wait-timeout", "00:00:02", "--url", _factory.BaseAddress.ToString(), "--client", _client]);

        Assert.True(exit == CliApp.NotComplete, $"exit {exit}: {output}{error}");
        var batch = System.Text.RegularExpressions.Regex.Match(output, $@"batch ({_client}-\d+-\d+): incomplete, [\d,]+ of 600 rows consumed");
        Assert.True(batch.Success, output);
        Assert.Contains("bulk status <batchId>", error, StringComparison.Ordinal);
        Assert.Contains(batch.Groups[1].Value, error, StringComparison.Ordinal);
        Assert.DoesNotContain("not applied", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wait_longer_than_the_request_timeout_polls_and_ends_with_the_batch_status_and_exit_3_not_a_timeout()
    {
        // Before: Prefer: wait=<the whole wait> held the POST past HttpClient.Timeout, and the command failed silently.
        var (exit, output, error) = await ClientCli.RunAsync(
            ["bulk", "upload", _csv, "--wait", "--wait-timeout", "00:00:06", "--url", _factory.BaseAddress.ToString(), "--client", _client],
            o => o.RequestTimeout = TimeSpan.FromSeconds(3));

        Assert.True(exit == CliApp.NotComplete, $"exit {exit}: {output}{error}");
        Assert.Matches($@"batch {_client}-\d+-\d+: incomplete, [\d,]+ of 600 rows consumed", output);
        Assert.Contains("bulk status", error, StringComparison.Ordinal);
    }
}

/// <summary>The bulk upload's progress bars, driven directly: a terminal's bars cannot be driven from a test.</summary>
public sealed class PartProgressTests
{
    private static BatchStatus Status(long consumed) => new("b-1", consumed == 10 ? "complete" : "incomplete", 10, consumed, consumed, 0, 0, 0, []);

    [Fact]
    public void Reports_apply_at_once_and_none_after_done_restarts_a_stopped_bar()
    {
        var (bytes, rows) = (new Spectre.Console.ProgressTask(1, "bytes", 100, autoStart: true), new Spectre.Console.ProgressTask(2, "rows", 10, autoStart: false));
        var progress = new PartProgress(TextWriter.Null, "batch 1", bytes, rows);

        progress.Bytes!.Report(40);
        progress.Rows!.Report(Status(3));
        // Applied before Report returns: a report posted to the thread pool (Progress<T>) could run after Done below and
        // restart the stopped bar, which Spectre refuses with "Stopped tasks cannot be restarted" (exit 134 on a terminal).
        Assert.Equal((40d, 3d, true), (bytes.Value, rows.Value, rows.IsStarted));

        progress.Done(Status(10));
        Assert.Equal((100d, 10d), (bytes.Value, rows.Value));
        Assert.NotNull(rows.StopTime);

        // A late report (the last poll's, say) leaves the stopped bars alone instead of throwing.
        progress.Rows.Report(Status(7));
        progress.Bytes.Report(50);
        progress.Done(Status(10));
        Assert.Equal((100d, 10d), (bytes.Value, rows.Value));
    }

    [Fact]
    public void The_rows_bar_shows_its_amount_in_rows_and_the_bytes_bar_in_bytes()
    {
        var (bytes, rows) = (new Spectre.Console.ProgressTask(1, "bytes", 2048, autoStart: true), new Spectre.Console.ProgressTask(2, "rows", 1500, autoStart: false));
        var progress = new PartProgress(TextWriter.Null, "batch 1", bytes, rows);

        progress.Bytes!.Report(1024);
        progress.Rows!.Report(new BatchStatus("b-1", "incomplete", 1500, 750, 750, 0, 0, 0, []));

        // The display's amount column, as the upload's progress shows it (one column for both bars).
        Assert.Equal("750/1,500 rows", Rendered(rows));
        var sent = Rendered(bytes);
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(sent, "^1\\.0/2\\.0 KiB$"), sent);
    }

    private static string Rendered(Spectre.Console.ProgressTask task)
    {
        using var writer = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
        {
            Ansi = Spectre.Console.AnsiSupport.No,
            ColorSystem = Spectre.Console.ColorSystemSupport.NoColors,
            Out = new Spectre.Console.AnsiConsoleOutput(writer),
        });
        console.Write(new AmountColumn().Render(Spectre.Console.Rendering.RenderOptions.Create(console), task, TimeSpan.Zero));
        return writer.ToString().Trim();
    }

    [Fact]
    public void An_abandoned_part_stops_both_bars_even_the_rows_bar_never_started()
    {
        var (bytes, rows) = (new Spectre.Console.ProgressTask(1, "bytes", 100, autoStart: true), new Spectre.Console.ProgressTask(2, "rows", 10, autoStart: false));
        using var output = new StringWriter();
        var progress = new PartProgress(output, "batch 1", bytes, rows);

        progress.Abandon("answered 413");
        progress.Rows!.Report(Status(5));

        Assert.NotNull(bytes.StopTime);
        Assert.NotNull(rows.StopTime);
        Assert.Equal(0d, rows.Value);
        Assert.Equal("batch 1: answered 413", output.ToString().TrimEnd());
    }
}
