using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using HetConv.Profiling;
using Spectre.Console;

namespace HetConv.Cli.Commands;

/// <summary><c>hetconv tables</c>: the FLOPs and parameter columns of the paper's tables next to ours.</summary>
public static class TablesCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "print JSON instead of a table" };
        var command = new Command("tables",
            "Reproduce the FLOPs and parameter columns of the paper's Tables 1, 3, 4, 5, 6 and 7: the paper's value, ours, the difference.")
        {
            json,
        };
        command.SetAction(result =>
        {
            bool asJson = result.GetValue(json);
            var comparisons = PaperTableReproduction.Compare(progress: asJson ? null : model => Console.Error.WriteLine($"profiling {model}"));
            if (asJson)
                Console.WriteLine(ToJson(comparisons));
            else
                Write(comparisons);
            return 0;
        });
        return command;
    }

    private static string Label(PaperQuantity quantity) => quantity switch
    {
        PaperQuantity.Flops => "FLOPs",
        PaperQuantity.FlopsReduced => "FLOPs reduced",
        PaperQuantity.Params => "params",
        PaperQuantity.ParamsReduced => "params reduced",
        _ => quantity.ToString(),
    };

    private static string Status(TableComparison c) =>
        c.Exact ? "exact" : c.WithinTolerance ? (c.Unit == "%" ? "<=0.1pt" : "<=1%") : "explained";

    private static string Printed(double value, int decimals) => value.ToString($"F{decimals}", CultureInfo.InvariantCulture);

    private static string Number(double value) => value.ToString("0.00##", CultureInfo.InvariantCulture);

    private static void Write(IReadOnlyList<TableComparison> comparisons)
    {
        foreach (var group in comparisons.GroupBy(c => c.Table))
        {
            var table = new Table { Title = new TableTitle(PaperTables.Titles[group.Key]), Border = TableBorder.Simple }
                .AddColumns("network", "quantity", "paper", "ours", "diff", "ours (macs)", "");
            foreach (int i in Enumerable.Range(2, 4)) table.Columns[i].RightAligned();
            foreach (var c in group)
            {
                table.AddRow(
                    Markup.Escape(c.Network),
                    $"{Label(c.Quantity)} ({c.Unit})",
                    Printed(c.Paper, c.Decimals),
                    Printed(c.OursPrinted, c.Decimals),
                    c.Difference == 0 ? "0" : (c.Difference > 0 ? "+" : "") + Printed(c.Difference, c.Decimals),
                    c.OursMacs is { } macs ? Number(macs) : "",
                    Status(c) switch { "exact" => "[green]exact[/]", "explained" => "[yellow]explained[/]", var other => other });
            }
            AnsiConsole.Write(table);
        }
        Console.WriteLine(
            "paper/ours/diff: FLOPs under the paper's convention (conv Do^2 N (M K^2/g + 1), HetConv times 1/P + (1-1/P)/K^2,\n" +
            "linear in*out), truncated to the paper's decimals; parameters are the models' learnable ones, rounded;\n" +
            "reductions against the table's first row. exact: equal as printed; <=1% or <=0.1pt: within tolerance;\n" +
            "explained: the difference is explained in docs/paper-tables.md of the repository.");
    }

    private static string ToJson(IReadOnlyList<TableComparison> comparisons) =>
        JsonSerializer.Serialize(comparisons.Select(c => new
        {
            table = c.Table,
            network = c.Network,
            quantity = Label(c.Quantity),
            unit = c.Unit,
            paper = c.Paper,
            ours = c.OursPrinted,
            ours_exact = c.Ours,
            ours_macs = c.OursMacs,
            difference = c.Difference,
            status = Status(c),
        }), new JsonSerializerOptions { WriteIndented = true });
}
