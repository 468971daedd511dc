using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ProfileUpdate.Cli;

/// <summary>
/// <c>profile-update changes [--after cursor] [--limit N] [--follow] [--json]</c>: the change feed (docs/api.md §9) as
/// one line per entry. The cursor to resume from goes to stderr as <c>next: …</c>, so stdout stays the entries alone.
/// </summary>
internal static class ChangesCommand
{
    /// <summary>NDJSON for piping: not HTML, so non-ASCII and quotes stay readable instead of \u-escaped.</summary>
    private static readonly JsonSerializerOptions Ndjson = new(JsonSerializerDefaults.Web) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Build(CliContext context, Func<ParseResult, Connection> connectionOf)
    {
        var after = new Option<string?>("--after") { Description = "Start after this cursor (an entry's id, or the next printed last time); default: the oldest entry kept" };
        var limit = new Option<int?>("--limit") { Description = "At most this many entries in total (1 or more; not the page size: pages are read 1,000 at a time), then stop" };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep following: print each new change as it is applied, until Ctrl-C" };
        var json = new Option<bool>("--json") { Description = "One JSON object per line (NDJSON), as the service sends each entry" };
        var command = new Command("changes", "Print the change feed: every applied change, oldest first (the feed must be on: ProfileUpdate__Changes__Enabled=true)")
        {
            after, limit, follow, json,
        };
        command.SetAction((r, ct) => Commands.Run(context, connectionOf(r), async client =>
        {
            var max = r.GetValue(limit);
            if (max is < 1) throw new CsvFormatException("--limit must be 1 or more.");
            var write = r.GetValue(json) ? (Action<ChangeEntry>)(e => context.Output.WriteLine(JsonSerializer.Serialize(e, Ndjson))) : e => WriteLine(context, e);
            return r.GetValue(follow)
                ? await FollowAsync(context, client, r.GetValue(after), max, write, ct).ConfigureAwait(false)
                : await ReadAsync(context, client, r.GetValue(after), max, write, ct).ConfigureAwait(false);
        }));
        return command;
    }

    /// <summary>Pages until one comes back empty (caught up) or --limit entries were printed.</summary>
    private static async Task<int> ReadAsync(CliContext context, ProfileUpdateClient client, string? after, int? max, Action<ChangeEntry> write, CancellationToken ct)
    {
        var cursor = after;
        var printed = 0;
        while (true)
        {
            var size = Math.Min(ProfileUpdateClient.MaxChangesPerPage, max is { } m ? m - printed : int.MaxValue);
            var page = await client.ReadChangesAsync(cursor, size, ct).ConfigureAwait(false);
            foreach (var entry in page.Changes) write(entry);
            printed += page.Changes.Count;
            cursor = page.Next;
            if (page.Changes.Count == 0 || printed == max) break;
        }
        context.Error.WriteLine($"next: {cursor}");
        return CliApp.Ok;
    }

    /// <summary>Follows until Ctrl-C (or --limit entries); a graceful stop prints the cursor of the last entry printed.</summary>
    private static async Task<int> FollowAsync(CliContext context, ProfileUpdateClient client, string? after, int? max, Action<ChangeEntry> write, CancellationToken ct)
    {
        var last = after;
        var printed = 0;
        try
        {
            await foreach (var entry in client.FollowChangesAsync(after, ct).ConfigureAwait(false))
            {
                write(entry);
                await context.Output.FlushAsync(ct).ConfigureAwait(false); // a pipe reader sees each change as it comes
                last = entry.Id;
                if (++printed == max) break;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Ctrl-C: the normal way to stop following.
        }
        if (last is not null) context.Error.WriteLine($"next: {last}");
        return CliApp.Ok;
    }

    /// <summary>time kind tntId thirdPartyId name=value… -removed…; coloured on a terminal, plain when redirected.</summary>
    private static void WriteLine(CliContext context, ChangeEntry entry)
    {
        var at = entry.At.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture);
        var set = entry.Set.Select(a => $"{Token(a.Key)}={Token(a.Value)}").ToList();
        var removed = entry.Removed.Select(name => "-" + Token(name)).ToList();
        var third = entry.ThirdPartyId ?? "-";
        if (!context.Interactive)
        {
            context.Output.WriteLine(string.Join(' ', new[] { at, entry.Kind, entry.TntId, third }.Concat(set).Concat(removed)));
            return;
        }
        var colour = entry.Kind switch { ChangeKind.Created => "green", ChangeKind.Deleted => "red", _ => "blue" };
        var parts = new List<string>
        {
            $"[grey]{at}[/]", $"[{colour}]{Markup.Escape(entry.Kind)}[/]", Markup.Escape(entry.TntId), $"[bold]{Markup.Escape(third)}[/]",
        };
        parts.AddRange(set.Select(Markup.Escape));
        parts.AddRange(removed.Select(r => $"[red]{Markup.Escape(r)}[/]"));
        // One entry, one line: Spectre would fold the markup at the terminal's width; the terminal wraps it itself.
        context.Console.Profile.Width = Math.Max(context.Console.Profile.Width, 4096);
        context.Console.MarkupLine(string.Join(' ', parts));
    }

    /// <summary>A name or value as one token of the line: JSON-quoted when it is empty or has spaces, quotes, '=' or controls.</summary>
    private static string Token(string text) =>
        text.Length == 0 || text.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '"' or '=')
            ? JsonSerializer.Serialize(text, Ndjson)
            : text;
}
