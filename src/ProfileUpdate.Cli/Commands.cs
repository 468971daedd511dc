using Microsoft.Extensions.DependencyInjection;

namespace ProfileUpdate.Cli;

/// <summary>The command tree.</summary>
internal static class Commands
{
    public static RootCommand Build(CliContext context)
    {
        var url = new Option<string>("--url")
        {
            Description = "The service's base address (env PROFILE_UPDATE_URL)",
            Recursive = true,
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("PROFILE_UPDATE_URL") is { Length: > 0 } u ? u : "http://localhost:5000",
        };
        var token = new Option<string?>("--token")
        {
            Description = "The client's bearer token (env PROFILE_UPDATE_TOKEN)",
            Recursive = true,
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("PROFILE_UPDATE_TOKEN"),
        };
        var client = new Option<string>("--client")
        {
            Description = "The client code (env PROFILE_UPDATE_CLIENT)",
            Recursive = true,
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("PROFILE_UPDATE_CLIENT") ?? "",
        };
        Connection ConnectionOf(ParseResult r) => new(r.GetValue(url)!, r.GetValue(token), r.GetValue(client)!);

        var tnt = new Option<string?>("--tnt-id") { Description = "The visitor's tntId (mboxPC)" };
        var third = new Option<string?>("--third-party-id") { Description = "The visitor's thirdPartyId (mbox3rdPartyId)" };

        var assignments = new Argument<string[]>("name=value") { Description = "Attributes to set", Arity = ArgumentArity.ZeroOrMore };
        var remove = new Option<string[]>("--remove")
        {
            Description = "Attribute to remove (repeatable); applied with the sets in one atomic update (emptyValues=remove)",
            AllowMultipleArgumentsPerToken = true,
        };
        var update = new Command("update", "Set and remove attributes of one existing profile") { tnt, third, assignments, remove };
        update.SetAction((r, ct) => Run(context, ConnectionOf(r), async http =>
        {
            var set = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in r.GetValue(assignments) ?? [])
            {
                var at = pair.IndexOf('=', StringComparison.Ordinal);
                if (at <= 0) throw new CsvFormatException($"'{pair}' is not name=value.");
                // One value per name: the later one would silently win here (the service refuses a repeated name).
                if (!set.TryAdd(pair[..at], pair[(at + 1)..]))
                    throw new CsvFormatException($"'{pair[..at]}' is given more than once (as '{pair[..at]}={set[pair[..at]]}' and '{pair}'); give each attribute one value. Nothing was sent.");
            }
            // Removing a name twice is removing it; the service would refuse the repeated parameter, so it goes once.
            var removals = (r.GetValue(remove) ?? []).Distinct(StringComparer.Ordinal).ToArray();
            if (removals.FirstOrDefault(set.ContainsKey) is { } both)
                throw new CsvFormatException($"'{both}' is both set ({both}={set[both]}) and removed (--remove {both}); give one of the two. Nothing was sent.");
            if (set.Count == 0 && removals.Length == 0) throw new CsvFormatException("Give at least one name=value to set or one --remove name.");
            var outcome = await http.UpdateAsync(new ProfileUpdateRequest(IdOf(r, tnt, third), set, removals), ct).ConfigureAwait(false);
            context.Output.WriteLine(outcome == UpdateOutcome.Applied ? "applied" : "profile not found: nothing was changed");
            return outcome == UpdateOutcome.Applied ? CliApp.Ok : CliApp.Failed;
        }));

        var get = new Command("get", "Read one profile") { tnt, third };
        get.SetAction((r, ct) => Run(context, ConnectionOf(r), async http =>
        {
            var id = IdOf(r, tnt, third);
            var profile = await http.GetProfileAsync(id, ct).ConfigureAwait(false);
            if (profile is null)
            {
                // The client answers a missing profile with null (not an exception); name what was looked for.
                context.Error.WriteLine($"404: No profile found for client {r.GetValue(client)} with {(id.Kind == ProfileIdKind.TntId ? "tntId" : "thirdPartyId")} {id.Value}.");
                return CliApp.Failed;
            }
            var table = new Table().AddColumns("attribute", "value", "modified");
            foreach (var (name, value) in profile.Attributes.OrderBy(a => a.Key, StringComparer.Ordinal))
                table.AddRow(Markup.Escape(name), Markup.Escape(value.Value), value.ModifiedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
            context.Console.WriteLine($"tntId {profile.TntId}  thirdPartyId {profile.ThirdPartyId ?? "-"}");
            context.Console.Write(table);
            return CliApp.Ok;
        }));

        var delete = new Command("delete", "Delete one profile with every id linked to it") { tnt, third };
        delete.SetAction((r, ct) => Run(context, ConnectionOf(r), async http =>
        {
            var id = IdOf(r, tnt, third);
            var named = $"{(id.Kind == ProfileIdKind.TntId ? "tntId" : "thirdPartyId")} {id.Value}";
            // Not found is success: afterwards nothing is stored for the id either way, which is what an erasure asks.
            var outcome = await http.DeleteProfileAsync(id, ct).ConfigureAwait(false);
            context.Output.WriteLine(outcome == DeleteOutcome.Deleted
                ? $"deleted: the profile of {named} and every id linked to it"
                : $"not found: no profile is stored for {named}, nothing to delete");
            return CliApp.Ok;
        }));

        var batchId = new Argument<string>("batchId");
        var status = new Command("status", "Show a batch's counts and failed rows") { batchId };
        status.SetAction((r, ct) => Run(context, ConnectionOf(r), async http =>
        {
            var s = await http.GetBatchStatusAsync(r.GetValue(batchId)!, details: true, ct).ConfigureAwait(false);
            BulkUpload.WriteStatus(context, s, line => line);
            return s.AllApplied ? CliApp.Ok : s.IsComplete ? CliApp.Failed : CliApp.NotComplete;
        }));

        var bulk = new Command("bulk", "Bulk profile updates and erasures from a CSV")
        {
            BulkUpload.Command(context, ConnectionOf), BulkUpload.DeleteCommand(context, ConnectionOf), status, BulkUpload.ConvertCommand(context),
        };
        var changes = ChangesCommand.Build(context, ConnectionOf);
        return new RootCommand("profile-update: single and bulk profile updates and deletes, and the change feed, against a ProfileUpdate service")
        {
            url, token, client, update, get, delete, bulk, changes,
        };
    }

    private static ProfileId IdOf(ParseResult r, Option<string?> tnt, Option<string?> third) =>
        (r.GetValue(tnt), r.GetValue(third)) switch
        {
            ({ } t, null) => ProfileId.Tnt(t),
            (null, { } p) => ProfileId.ThirdParty(p),
            _ => throw new CsvFormatException("Give exactly one of --tnt-id and --third-party-id."),
        };

    /// <summary>Runs a command with a client; maps the service's refusals and our own input errors to exit codes.</summary>
    public static async Task<int> Run(CliContext context, Connection connection, Func<ProfileUpdateClient, Task<int>> action)
    {
        if (string.IsNullOrWhiteSpace(connection.Client))
        {
            context.Error.WriteLine("--client (or PROFILE_UPDATE_CLIENT) is required.");
            return CliApp.BadInput;
        }
        // HttpClient speaks http and https only: another scheme (ftp://, file://) would fail at the first call with a
        // NotSupportedException and its stack trace.
        if (!Uri.TryCreate(connection.Url, UriKind.Absolute, out var address) || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps))
        {
            context.Error.WriteLine($"--url (or PROFILE_UPDATE_URL) must be an absolute http:// or https:// URL such as http://localhost:5000, not '{connection.Url}'.");
            return CliApp.BadInput;
        }
        await using var services = context.CreateServices(connection, line => context.Error.WriteLine(line));
        try
        {
            return await action(services.GetRequiredService<ProfileUpdateClient>()).ConfigureAwait(false);
        }
        catch (BatchFailedException ex)
        {
            context.Error.WriteLine($"{Describe(ex.InnerException!, connection)} {ex.Where}");
            return CliApp.Failed;
        }
        catch (CsvFormatException ex)
        {
            context.Error.WriteLine(ex.Message);
            return CliApp.BadInput;
        }
        catch (System.Text.DecoderFallbackException ex)
        {
            // Checked before sending; only a file changed while it is read gets here.
            context.Error.WriteLine($"The CSV is not valid UTF-8 ({ex.Message}); save it as UTF-8.");
            return CliApp.BadInput;
        }
        catch (Exception ex) when (ex is ProfileUpdateException or HttpRequestException || IsTimeout(ex, CancellationToken.None))
        {
            context.Error.WriteLine(Describe(ex, connection));
            return CliApp.Failed;
        }
    }

    /// <summary>
    /// An HttpClient.Timeout (RequestTimeout) elapsing: a TaskCanceledException whose inner exception is a
    /// TimeoutException, unlike a cancellation the caller asked for (Ctrl-C), which must stay one.
    /// </summary>
    internal static bool IsTimeout(Exception ex, CancellationToken requested) =>
        ex is TaskCanceledException { InnerException: TimeoutException } && !requested.IsCancellationRequested;

    /// <summary>One line for a failure: the service's refusal with its status, or what kept the call from being answered.</summary>
    private static string Describe(Exception ex, Connection connection) => ex switch
    {
        BatchNotAppliedException batch => batch.ServerMessage,
        ProfileUpdateException refused => $"{refused.StatusCode}: {refused.ServerMessage}",
        HttpRequestException unreachable => $"The service at {connection.Url} could not be reached: {unreachable.Message}",
        OperationCanceledException and not TaskCanceledException { InnerException: TimeoutException } =>
            $"Stopped (Ctrl-C) before the service at {connection.Url} answered.",
        _ => $"The service at {connection.Url} did not answer in time: {ex.InnerException?.Message ?? ex.Message} A call that timed out may still have been applied.",
    };
}
