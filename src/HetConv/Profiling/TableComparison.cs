using System.Globalization;
using HetConv.Models;

namespace HetConv.Profiling;

/// <summary>
/// One printed value of the paper next to ours: <see cref="Ours"/> is exact, <see cref="OursPrinted"/> is written
/// the paper's way (FLOPs truncated, the rest rounded, to the paper's <see cref="Decimals"/>); <see cref="Difference"/> is
/// ours minus the paper's, from the printed values; <see cref="OursMacs"/> is our FLOPs under fvcore's convention.
/// </summary>
public sealed record TableComparison(
    string Table,
    string Network,
    PaperQuantity Quantity,
    string Unit,
    int Decimals,
    double Paper,
    double Ours,
    double OursPrinted,
    double Difference,
    double? OursMacs)
{
    /// <summary>The difference relative to the paper's value, in percent (percentage points for reductions).</summary>
    public double RelativeDifferencePercent => Paper == 0 ? 0 : 100 * Difference / Paper;

    public bool Exact => Difference == 0;

    /// <summary>Equal as printed, or within 1% of the paper's value (0.1 point for a reduction).</summary>
    public bool WithinTolerance => Exact || (Quantity is PaperQuantity.FlopsReduced or PaperQuantity.ParamsReduced
        ? Math.Abs(Difference) <= 0.1 + 1e-9
        : Math.Abs(RelativeDifferencePercent) <= 1);
}

/// <summary>Profiles every network of <see cref="PaperTables"/> and lines our numbers up with the paper's.</summary>
public static class PaperTableReproduction
{
    /// <summary>
    /// All comparisons, in table order. Each distinct network is built and profiled once (on CPU, batch 1, at its
    /// table's input size, 10 classes for CIFAR and 1000 for ImageNet); <paramref name="progress"/> hears each one.
    /// </summary>
    public static IReadOnlyList<TableComparison> Compare(IEnumerable<PaperRow>? rows = null, Action<string>? progress = null)
    {
        var list = (rows ?? PaperTables.Rows).ToList();
        var profiles = new Dictionary<(string, ConvOptions), (ModelProfile Paper, ModelProfile Macs)>();
        (ModelProfile Paper, ModelProfile Macs) ProfileOf(string model, ConvOptions options)
        {
            if (profiles.TryGetValue((model, options), out var cached)) return cached;
            progress?.Invoke($"{model} {options}");
            var entry = ModelZoo.Get(model);
            using var network = ModelZoo.Create(model, options);
            var both = ModelProfiler.Profile(network, entry.DefaultInput, new[] { FlopConvention.Paper, FlopConvention.Macs });
            var result = (both[0], both[1]);
            profiles[(model, options)] = result;
            return result;
        }

        var comparisons = new List<TableComparison>();
        foreach (var table in list.GroupBy(r => r.Table))
        {
            var baselineRow = table.First();
            var baseline = ProfileOf(baselineRow.Model, baselineRow.Options);
            foreach (var row in table)
            {
                var (paper, macs) = ProfileOf(row.Model, row.Options);
                double scale = row.FlopsInBillions ? 1e9 : 1e6;
                foreach (var (quantity, printed) in row.Values.OrderBy(v => v.Key))
                {
                    double paperValue = double.Parse(printed, CultureInfo.InvariantCulture);
                    int decimals = printed.Contains('.') ? printed.Length - printed.IndexOf('.') - 1 : 0;
                    var (ours, unit, oursMacs) = quantity switch
                    {
                        PaperQuantity.Flops => (paper.Flops / scale, row.FlopsInBillions ? "G" : "M", macs.Flops / scale),
                        PaperQuantity.FlopsReduced => (ModelProfile.ReductionPercent(baseline.Paper.Flops, paper.Flops), "%",
                            ModelProfile.ReductionPercent(baseline.Macs.Flops, macs.Flops)),
                        PaperQuantity.Params => (paper.Params / 1e6, "M", (double?)null),
                        PaperQuantity.ParamsReduced => (ModelProfile.ReductionPercent(baseline.Paper.Params, paper.Params), "%", null),
                        _ => throw new InvalidOperationException($"unknown quantity {quantity}"),
                    };
                    double factor = Math.Pow(10, decimals);
                    double oursPrinted = quantity == PaperQuantity.Flops
                        ? Math.Floor(ours * factor + 1e-6) / factor
                        : Math.Round(ours, decimals, MidpointRounding.AwayFromZero);
                    double difference = Math.Round(oursPrinted - paperValue, decimals);
                    comparisons.Add(new TableComparison(row.Table, row.Network, quantity, unit, decimals, paperValue, ours, oursPrinted, difference, oursMacs));
                }
            }
        }
        return comparisons;
    }
}
