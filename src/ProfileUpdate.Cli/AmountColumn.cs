using System.Globalization;
using Spectre.Console.Rendering;

namespace ProfileUpdate.Cli;

/// <summary>
/// A progress bar's amount in the unit of its task: bytes for the upload (as Spectre's <see cref="DownloadedColumn"/>
/// shows them, in KB/MB) and rows for the consumed count. One column serves every task of a progress display, so the
/// unit has to come from the task: a rows task is marked with <see cref="CountRows"/>.
/// </summary>
public sealed class AmountColumn : ProgressColumn
{
    private const string RowsKey = "profile-update.unit-rows";
    private readonly DownloadedColumn _bytes = new() { Culture = CultureInfo.InvariantCulture };

    /// <summary>Marks <paramref name="task"/> as counting rows; returns it.</summary>
    public static ProgressTask? CountRows(ProgressTask? task)
    {
        task?.State.Update<bool>(RowsKey, _ => true);
        return task;
    }

    /// <inheritdoc />
    public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime) =>
        task.State.Get<bool>(RowsKey)
            ? new Text(string.Create(CultureInfo.InvariantCulture, $"{task.Value:N0}/{task.MaxValue:N0} rows")).RightJustified()
            : _bytes.Render(options, task, deltaTime);
}
