using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using HetConv.Layers.Execution.Kernels;
using HetConv.Training;
using static System.Net.WebUtility;

namespace HetConv.Studies;

/// <summary>
/// The study as one self-contained HTML page: the command, the machine and versions, the table, the three plots
/// (embedded as data: SVG images, so the page needs no other file and no network) and every run.
/// </summary>
public static class StudyReport
{
    public static string Html(StudyOptions options, string dataSet, string title, IReadOnlyList<StudyRow> rows,
        IReadOnlyList<(StudyRunKey Key, TrainingSummary Summary)> runs, Dictionary<string, BudgetPlan>? plans)
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append($"<title>HetConv study: {HtmlEncode(title)}</title>\n")
            .Append("<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}table{border-collapse:collapse;font-size:90%}")
            .Append("td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}td:first-child,th:first-child{text-align:left}")
            .Append("img{max-width:100%;display:block;margin:1em 0}code,pre{background:#f4f4f4}pre{padding:.5em;white-space:pre-wrap}</style>\n")
            .Append("</head>\n<body>\n")
            .Append($"<h1>HetConv study: {HtmlEncode(title)}</h1>\n")
            .Append($"<p>Written {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.</p>\n<h2>Command</h2>\n<pre>{HtmlEncode(options.Command)}</pre>\n");

        html.Append("<h2>Machine and versions</h2>\n<ul>\n");
        foreach (var (name, value) in Machine(runs))
            html.Append($"<li>{HtmlEncode(name)}: {HtmlEncode(value)}</li>\n");
        html.Append("</ul>\n");

        var s = runs[0].Summary;
        html.Append("<h2>Setting</h2>\n<p>")
            .Append(HtmlEncode(Invariant($"{options.Model} on {dataSet}: {s.TrainImages} training and {s.TestImages} test images, batch {options.BatchSize}, ")))
            .Append(HtmlEncode(options.BudgetMinutes is { } budget
                ? Invariant($"an equal budget of {budget:0.##} minutes per run, each variant's epochs fitted to its measured pace (below); ")
                : Invariant($"{options.Epochs} epochs per run; ")))
            .Append(HtmlEncode(Invariant($"seeds 1..{options.Seeds}; SGD, {(options.Nesterov ? "Nesterov" : "classical")} momentum {options.Momentum}, ") +
                Invariant($"weight decay {options.WeightDecay}, the {options.Schedule.Kind.Name()} schedule at learning rate {options.Schedule.LearningRate}.")))
            .Append(" Accuracy is the final epoch's test accuracy. FLOPs are multiply-accumulates per image of the convolutions and linear ")
            .Append("layers (the profiler's macs convention), reduced against the standard model (P1). Training time includes each epoch's ")
            .Append("test pass. Latency is the median forward pass of the whole batch, the variants timed side by side; training images/s ")
            .Append("were measured run by run, so on a shared machine they carry its load at the time.</p>\n");

        html.Append("<h2>Table</h2>\n<table>\n<tr>");
        foreach (var header in StudyTable.MarkdownHeader) html.Append($"<th>{HtmlEncode(header)}</th>");
        html.Append("</tr>\n");
        foreach (var row in rows)
            html.Append("<tr>").AppendJoin("", StudyTable.Cells(row).Select(c => $"<td>{HtmlEncode(c)}</td>")).Append("</tr>\n");
        html.Append("</table>\n");

        html.Append("<h2>Plots</h2>\n");
        foreach (string plot in StudyPlots.Names)
        {
            string svg = File.ReadAllText(Path.Combine(options.OutDirectory, plot + ".svg"));
            html.Append($"<img alt=\"{plot}\" src=\"data:image/svg+xml;base64,{Convert.ToBase64String(Encoding.UTF8.GetBytes(svg))}\">\n");
        }

        if (plans is not null)
        {
            html.Append("<h2>Budget plan</h2>\n<table>\n<tr><th>Variant</th><th>Train img/s (probe)</th><th>Test s/image (probe)</th>")
                .Append("<th>Seconds per epoch (estimate)</th><th>Epochs</th></tr>\n");
            foreach (var p in plans.Values)
                html.Append(Invariant($"<tr><td>{HtmlEncode(p.Variant)}</td><td>{p.TrainImagesPerSecond:F0}</td><td>{p.TestSecondsPerImage:G3}</td>"))
                    .Append(Invariant($"<td>{p.SecondsPerEpoch:F1}</td><td>{p.Epochs}</td></tr>\n"));
            html.Append("</table>\n");
        }

        html.Append("<h2>Runs</h2>\n<table>\n<tr><th>Run</th><th>Epochs</th><th>Final acc. %</th><th>Best acc. %</th><th>Minutes</th>")
            .Append("<th>Train img/s</th><th>Directory</th></tr>\n");
        foreach (var (key, sum) in runs)
            html.Append(Invariant($"<tr><td>{HtmlEncode(key.ToString())}</td><td>{sum.Epochs}</td><td>{100 * sum.FinalTestAccuracy:F2}</td>"))
                .Append(Invariant($"<td>{100 * sum.BestTestAccuracy:F2}</td><td>{sum.TotalSeconds / 60:F2}</td><td>{sum.ImagesPerSecond:F0}</td>"))
                .Append($"<td>{HtmlEncode(Path.GetRelativePath(options.OutDirectory, key.Directory))}</td></tr>\n");
        html.Append("</table>\n</body>\n</html>\n");
        return html.ToString();
    }

    /// <summary>The CPU, its vector width, the threads and the versions that the numbers were measured with.</summary>
    public static IEnumerable<(string Name, string Value)> Machine(IReadOnlyList<(StudyRunKey Key, TrainingSummary Summary)> runs)
    {
        yield return ("CPU", $"{KernelIsa.CpuModel}, {Environment.ProcessorCount} logical processors");
        yield return ("Vector extensions", KernelIsa.VectorExtensions);
        yield return ("HetConv kernels' vector width", KernelIsa.Name(KernelIsa.Current));
        yield return ("libtorch threads", string.Join(", ", runs.Select(r => r.Summary.Threads).Distinct()));
        yield return ("Device", string.Join(", ", runs.Select(r => r.Summary.Device).Distinct()));
        yield return ("HetConv.NET", Version(typeof(StudyReport).Assembly));
        yield return ("TorchSharp", Version(typeof(TorchSharp.torch).Assembly));
        yield return (".NET", RuntimeInformation.FrameworkDescription);
        yield return ("OS", RuntimeInformation.OSDescription);
    }

    private static string Version(Assembly assembly) =>
        assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? assembly.GetName().Version?.ToString() ?? "unknown";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
