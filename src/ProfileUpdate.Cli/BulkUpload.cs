using System.Globalization;

namespace ProfileUpdate.Cli;

/// <summary><c>bulk upload</c>, <c>bulk delete</c> and <c>bulk convert</c>: a CSV into batches of the service's limits.</summary>
internal static class BulkUpload
{
    // The service's defaults: 500,000 rows, and 52,428,800 bytes as the first size refused (a part must be smaller).
    private const int DefaultMaxRows = 500_000;
    private const long DefaultMaxBytes = 52_428_800;

    // New instances per command tree: a System.CommandLine symbol shared between trees confuses the parser.
    private static Option<int> MaxRows() => new("--max-rows") { Description = "Most data rows per batch", DefaultValueFactory = _ => DefaultMaxRows };

    private static Option<long> MaxBytes() => new("--max-bytes") { Description = "First batch size refused (a part stays below it)", DefaultValueFactory = _ => DefaultMaxBytes };

    private static Option<TimeSpan> WaitTimeout()
    {
        var option = new Option<TimeSpan>("--wait-timeout") { Description = "How long --wait waits per batch", DefaultValueFactory = _ => TimeSpan.FromMinutes(10) };
        // A negative wait would read as "already over": refused as bad input, like a value that is not a time at all.
        // The validator runs even when the value did not convert (that error is System.CommandLine's): read the token.
        option.Validators.Add(result =>
        {
            if (result.Tokens is [var token] && TimeSpan.TryParse(token.Value, CultureInfo.InvariantCulture, out var wait) && wait < TimeSpan.Zero)
                result.AddError($"--wait-timeout must not be negative, not {token.Value}.");
        });
        return option;
    }

    public static Command Command(CliContext context, Func<ParseResult, Connection> connectionOf)
    {
        var file = new Argument<FileInfo>("file") { Description = "CSV with a header row; the first column is pcId/tntId/mboxPC or thirdPartyId/mbox3rdPartyId/mboxThirdPartyId" };
        var v1 = new Option<bool>("--v1") { Description = "Update existing profiles only (v2, the default, creates missing ones)" };
        var wait = new Option<bool>("--wait") { Description = "Wait until each batch is complete" };
        var waitTimeout = WaitTimeout();
        var removeEmpty = new Option<bool>("--remove-empty")
        {
            Description = "Present-but-empty cells remove their attribute (sends emptyValues=remove); without it empty cells are ignored",
        };
        var (maxRows, maxBytes) = (MaxRows(), MaxBytes());
        var upload = new Command("upload", "Upload a CSV as as many batches as the limits require") { file, v1, wait, waitTimeout, removeEmpty, maxRows, maxBytes };
        upload.SetAction((r, ct) => Commands.Run(context, connectionOf(r), http => new Upload(context, http, new BatchSubmitOptions
        {
            CreateMissing = !r.GetValue(v1),
            Wait = r.GetValue(wait),
            WaitTimeout = r.GetValue(waitTimeout),
            RemoveEmpty = r.GetValue(removeEmpty),
            ThrowOnFailedRows = false,
        }, ct).RunAsync(r.GetValue(file)!.FullName, r.GetValue(maxRows), r.GetValue(maxBytes))));
        return upload;
    }

    public static Command DeleteCommand(CliContext context, Func<ParseResult, Connection> connectionOf)
    {
        var file = new Argument<FileInfo>("file") { Description = "CSV whose header is one id column (pcId/tntId/mboxPC or thirdPartyId/mbox3rdPartyId/mboxThirdPartyId) and one id per row" };
        var wait = new Option<bool>("--wait") { Description = "Wait until each batch is complete" };
        var waitTimeout = WaitTimeout();
        var (maxRows, maxBytes) = (MaxRows(), MaxBytes());
        var delete = new Command("delete", "Erase every profile a CSV of ids names, as as many batchDelete batches as the limits require")
        {
            file, wait, waitTimeout, maxRows, maxBytes,
        };
        delete.SetAction((r, ct) => Commands.Run(context, connectionOf(r), http => new Upload(context, http, new BatchEraseOptions
        {
            Wait = r.GetValue(wait),
            WaitTimeout = r.GetValue(waitTimeout),
            ThrowOnFailedRows = false,
        }, ct).RunAsync(r.GetValue(file)!.FullName, r.GetValue(maxRows), r.GetValue(maxBytes))));
        return delete;
    }

    public static Command ConvertCommand(CliContext context)
    {
        var file = new Argument<FileInfo>("file") { Description = "CSV as for bulk upload" };
        var output = new Option<DirectoryInfo>("--out") { Description = "Where to write the batch files", Required = true };
        var (maxRows, maxBytes) = (MaxRows(), MaxBytes());
        var convert = new Command("convert", "Write the batch files bulk upload would send, without sending them") { file, output, maxRows, maxBytes };
        convert.SetAction(r =>
        {
            var directory = r.GetValue(output)!;
            directory.Create();
            try
            {
                foreach (var part in new CsvBatchSplitter(r.GetValue(maxRows), r.GetValue(maxBytes), directory.FullName).Split(r.GetValue(file)!.FullName))
                    context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{part.Path}: {part.Rows:N0} rows, {part.Bytes:N0} bytes, CSV lines {part.SourceLines[0]}-{part.SourceLines[^1]}"));
                return CliApp.Ok;
            }
            catch (CsvFormatException ex)
            {
                context.Error.WriteLine(ex.Message);
                return CliApp.BadInput;
            }
        });
        return convert;
    }

    /// <summary>Counts, then the failed rows with their CSV line (as mapped by <paramref name="lineOf"/>).</summary>
    public static void WriteStatus(CliContext context, BatchStatus s, Func<long, long> lineOf)
    {
        context.Output.WriteLine(s.IsErase
            ? string.Create(CultureInfo.InvariantCulture,
                $"batch {s.BatchId}: {s.State}, {s.Consumed:N0} of {s.BatchSize:N0} rows consumed, {s.ProfilesDeleted:N0} profiles deleted, {s.ProfilesNotFound:N0} not found (nothing stored), {s.Failed:N0} failed")
            : string.Create(CultureInfo.InvariantCulture,
                $"batch {s.BatchId}: {s.State}, {s.Consumed:N0} of {s.BatchSize:N0} rows consumed, {s.Successful:N0} applied ({s.ProfilesCreated:N0} profiles created), {s.ProfilesNotFound:N0} profiles not found, {s.Failed:N0} failed"));
        foreach (var row in s.FailedRows)
            context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"row {lineOf(row.Row)}: {row.Id}: {row.Message}"));
        if (s.Failed > s.FailedRows.Count)
            context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"({s.Failed - s.FailedRows.Count:N0} more failed rows are not listed by the service)"));
        // They make the exit 1 and the service counts them without naming them, so say why rather than exit 1 silently.
        if (!s.IsErase && s.ProfilesNotFound > 0)
            context.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{s.ProfilesNotFound:N0} row(s) of batch {s.BatchId} found no profile and changed nothing: a v1 update (--v1) updates existing profiles only, and the service counts these rows without listing them; check the ids, or upload without --v1 to create the profiles."));
    }

    /// <summary>
    /// One upload: parts in file order, each submitted (halved again on 413) and its outcome mapped to CSV lines. With
    /// <see cref="BatchEraseOptions"/> it is a bulk erase: the ids go to batchDelete, and a row whose profile does not exist
    /// is handled, not failed (an erasure of someone never stored is fulfilled).
    /// </summary>
    private sealed class Upload(CliContext context, ProfileUpdateClient http, BatchSendOptions options, CancellationToken cancellationToken)
    {
        private readonly bool _erase = options is BatchEraseOptions;
        private long _rows;
        private long _applied;
        private long _notFound;
        private long _failed;
        private readonly List<string> _incomplete = [];
        private int _batches;

        public async Task<int> RunAsync(string csv, int maxRows, long maxBytes)
        {
            var directory = Directory.CreateTempSubdirectory("profile-update-");
            try
            {
                var splitter = new CsvBatchSplitter(maxRows, maxBytes, directory.FullName, idOnly: _erase);
                // An update streams: each part is sent before the next is written. An erase converts the whole file first,
                // so a bad line anywhere in it stops everything before a single profile is deleted (it costs disk the
                // size of the batch files, and converting is fast next to applying: see run-bulk.sh).
                var parts = _erase ? splitter.Split(csv).ToList() : splitter.Split(csv);
                if (context.Interactive)
                    await context.Console.Progress().AutoClear(false)
                        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new AmountColumn(), new RemainingTimeColumn())
                        .StartAsync(progress => SendAllAsync(parts, new Reporter(context, progress))).ConfigureAwait(false);
                else
                    await SendAllAsync(parts, new Reporter(context, null)).ConfigureAwait(false);
            }
            finally
            {
                directory.Delete(recursive: true);
            }

            context.Output.WriteLine(_erase
                ? string.Create(CultureInfo.InvariantCulture,
                    $"{_rows:N0} rows in {_batches} batch(es): {_applied:N0} profiles deleted, {_notFound:N0} not found (nothing stored for them), {_failed:N0} failed")
                : string.Create(CultureInfo.InvariantCulture,
                    $"{_rows:N0} rows in {_batches} batch(es): {_applied:N0} applied, {_notFound:N0} profiles not found, {_failed:N0} failed"));
            if (_incomplete.Count > 0)
            {
                context.Error.WriteLine(options.Wait
                    ? $"Not complete when --wait-timeout ({options.WaitTimeout}) ended, still being applied: {string.Join(", ", _incomplete)}; check with 'bulk status <batchId>'."
                    : $"Some batches were not complete yet ({string.Join(", ", _incomplete)}); check them with 'bulk status <batchId>' or run again with --wait{(_erase ? " (deleting again is safe)" : "")}.");
                return CliApp.NotComplete;
            }
            return _failed == 0 && (_erase || _notFound == 0) ? CliApp.Ok : CliApp.Failed;
        }

        private async Task SendAllAsync(IEnumerable<BatchPart> parts, Reporter reporter)
        {
            foreach (var part in parts)
            {
                try
                {
                    await SendAsync(part, reporter).ConfigureAwait(false);
                }
                finally
                {
                    File.Delete(part.Path);
                }
            }
        }

        private async Task SendAsync(BatchPart part, Reporter reporter)
        {
            var progress = reporter.Start(_batches + 1, part);
            BatchSubmission? accepted = null;
            BatchStatus status;
            try
            {
                var submission = await (options with
                {
                    BytesSent = progress.Bytes,
                    StatusSeen = progress.Rows,
                    Submitted = new ImmediateProgress<BatchSubmission>(s => accepted = s),
                } switch
                {
                    BatchEraseOptions erase => http.SubmitEraseFileAsync(part.Path, erase, cancellationToken),
                    var update => http.SubmitBatchFileAsync(part.Path, (BatchSubmitOptions)update, cancellationToken),
                }).ConfigureAwait(false);
                status = submission.Status ?? await http.GetBatchStatusAsync(submission.BatchId, details: true, cancellationToken).ConfigureAwait(false);
            }
            catch (ProfileUpdateException ex) when (ex.StatusCode == 413 && part.Rows > 1)
            {
                // A 413 applies nothing (the service may be configured below our limits): halve and send both halves.
                progress.Abandon($"answered 413 ({ex.ServerMessage}); splitting into two batches");
                var (first, second) = CsvBatchSplitter.Halve(part);
                try
                {
                    await SendAsync(first, reporter).ConfigureAwait(false);
                    await SendAsync(second, reporter).ConfigureAwait(false);
                }
                finally
                {
                    File.Delete(first.Path);
                    File.Delete(second.Path);
                }
                return;
            }
            catch (ProfileUpdateException ex) when (ex is { WaitTimedOut: true, Batch: { } lastSeen })
            {
                // Not a failure: the batch was accepted and is still being applied. It counts as not complete (exit 3),
                // and the parts after it are still sent, each waited for in turn as --wait-timeout says (per batch).
                status = lastSeen;
            }
            catch (Exception ex) when (ex is ProfileUpdateException or HttpRequestException or OperationCanceledException)
            {
                // A timeout, a lost connection or Ctrl-C (the caller's cancellation) alike: say where the upload stands.
                progress.Abandon(ex is OperationCanceledException && cancellationToken.IsCancellationRequested ? "stopped" : "failed");
                throw new BatchFailedException(ex, Where(part, accepted, OutcomeOf(ex)));
            }

            _batches++;
            _rows += part.Rows;
            _applied += status.Successful;
            _notFound += status.ProfilesNotFound;
            _failed += status.Failed;
            if (!status.IsComplete) _incomplete.Add(status.BatchId);
            progress.Done(status);
            WriteStatus(context, status, row => part.SourceLineOf(row));
        }

        /// <summary>How a part's submission ended without a status.</summary>
        private enum Outcome
        {
            /// <summary>The service answered with a refusal: nothing of the part was applied.</summary>
            Refused,

            /// <summary>No connection could be made (refused, no route, unknown host): nothing was sent.</summary>
            NotSent,

            /// <summary>Sent (or being sent), but no answer came: a timeout, a dropped connection or Ctrl-C does not tell.</summary>
            NoAnswer,
        }

        private static Outcome OutcomeOf(Exception ex) => ex switch
        {
            ProfileUpdateException => Outcome.Refused,
            // Failing to connect is the one transport failure that proves the request never left.
            HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError } => Outcome.NotSent,
            _ => Outcome.NoAnswer,
        };

        /// <summary>
        /// What a failure leaves behind, in CSV lines: the parts before it were sent; this one was refused (nothing of it
        /// applied), never sent (no connection could be made), got no answer (it may have been accepted: a timeout, a
        /// dropped connection or Ctrl-C does not tell), or was accepted and then waiting for it failed (check its status
        /// by its id).
        /// </summary>
        private string Where(BatchPart part, BatchSubmission? accepted, Outcome outcome)
        {
            var (first, last) = (part.SourceLines[0], part.SourceLines[^1]);
            var before = _batches > 0 ? string.Create(CultureInfo.InvariantCulture, $"; the {_rows:N0} rows before were sent in {_batches} batch(es)") : "";
            return (accepted, outcome) switch
            {
                ({ } batch, _) => $"Batch {batch.BatchId} (CSV lines {first}-{last}) was accepted: check it with 'bulk status {batch.BatchId}'; the CSV lines after {last} were not sent{before}.",
                (null, Outcome.Refused) => $"CSV lines from {first} on were not applied{before}.",
                (null, Outcome.NotSent) => $"No connection could be made, so CSV lines from {first} on were not sent{before}.",
                _ => $"CSV lines {first}-{last} may or may not have been accepted (no answer came); the CSV lines after {last} were not sent{before}.",
            };
        }
    }

    /// <summary>Progress bars on a terminal; plain lines (no ANSI escapes) when output is redirected.</summary>
    private sealed class Reporter(CliContext context, ProgressContext? bars)
    {
        public PartProgress Start(int number, BatchPart part)
        {
            var label = string.Create(CultureInfo.InvariantCulture, $"batch {number}: {part.Rows:N0} rows");
            if (bars is null)
            {
                context.Output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label}, sending {part.Bytes:N0} bytes"));
                return new PartProgress(context.Output, label, null, null);
            }
            return new PartProgress(context.Output, label, bars.AddTask($"{label}: bytes sent", maxValue: part.Bytes),
                bars.AddTask($"{label}: rows consumed", autoStart: false, maxValue: part.Rows));
        }
    }
}

/// <summary>
/// One part's two bars. Reports are applied on the reporting thread (<see cref="ImmediateProgress{T}"/>), so none
/// can arrive after <see cref="Done"/> and restart a stopped task (Spectre throws "Stopped tasks cannot be
/// restarted"); and a bar once stopped is never touched again. Public so that tests drive it without a terminal.
/// </summary>
public sealed class PartProgress(TextWriter output, string label, ProgressTask? bytes, ProgressTask? rows)
{
    // The rows bar counts rows: the display's amount column shows it so (bytes are the other bar's unit).
    private readonly ProgressTask? _rows = AmountColumn.CountRows(rows);

    /// <summary>Told the bytes sent so far.</summary>
    public IProgress<long>? Bytes => bytes is null ? null : new ImmediateProgress<long>(sent =>
    {
        if (bytes.StopTime is null) bytes.Value = sent;
    });

    /// <summary>Told each status seen while waiting: starts the rows bar and shows the rows consumed.</summary>
    public IProgress<BatchStatus>? Rows => _rows is null ? null : new ImmediateProgress<BatchStatus>(s => Show(_rows, s.Consumed));

    /// <summary>The part will not be sent as it is (a 413 splits it): its bars stop where they are.</summary>
    public void Abandon(string why)
    {
        Stop(bytes, null);
        Stop(_rows, null);
        output.WriteLine($"{label}: {why}");
    }

    /// <summary>The part is sent and its last status known: both bars end, for good.</summary>
    public void Done(BatchStatus status)
    {
        Stop(bytes, bytes?.MaxValue);
        Stop(_rows, status.Consumed);
    }

    private static void Show(ProgressTask task, double value)
    {
        if (task.StopTime is not null) return;
        if (!task.IsStarted) task.StartTask();
        task.Value = value;
    }

    private static void Stop(ProgressTask? task, double? value)
    {
        if (task is null || task.StopTime is not null) return;
        if (value is { } v) Show(task, v);
        task.StopTask();
    }
}

/// <summary>
/// An <see cref="IProgress{T}"/> that runs its handler at once on the reporting thread. <see cref="Progress{T}"/> posts
/// each report to the synchronization context (the thread pool here), so a report could run after the work it reports
/// on has finished and been marked done.
/// </summary>
public sealed class ImmediateProgress<T>(Action<T> handler) : IProgress<T>
{
    /// <inheritdoc />
    public void Report(T value) => handler(value);
}

/// <summary>A batch of an upload failed; the message says which CSV lines were sent, accepted or not applied.</summary>
internal sealed class BatchFailedException(Exception inner, string where) : Exception(inner.Message, inner)
{
    /// <summary>Where the upload stands, in CSV lines.</summary>
    public string Where { get; } = where;
}
