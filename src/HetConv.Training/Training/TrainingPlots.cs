using HetConv.Files;
using HetConv.Plotting;
using ScottPlot;

namespace HetConv.Training;

/// <summary>The PNG pictures a run writes: loss and accuracy curves per epoch, and a confusion matrix.</summary>
public static class TrainingPlots
{
    private const int Width = 800, Height = 500;

    /// <summary>Train and test loss per epoch.</summary>
    public static void SaveLoss(string path, IReadOnlyList<EpochMetrics> history, string title) =>
        SaveCurves(path, history, title, "cross-entropy loss", m => m.TrainLoss, m => m.TestLoss, Alignment.UpperRight);

    /// <summary>Train and test accuracy (percent) per epoch.</summary>
    public static void SaveAccuracy(string path, IReadOnlyList<EpochMetrics> history, string title) =>
        SaveCurves(path, history, title, "accuracy (%)", m => 100 * m.TrainAccuracy, m => 100 * m.TestAccuracy, Alignment.LowerRight);

    private static void SaveCurves(string path, IReadOnlyList<EpochMetrics> history, string title, string yLabel,
        Func<EpochMetrics, double> train, Func<EpochMetrics, double> test, Alignment legend)
    {
        PlotFonts.EnsureRegistered();
        using var plot = new Plot();
        double[] epochs = history.Select(m => (double)m.Epoch).ToArray();
        var trainLine = plot.Add.Scatter(epochs, history.Select(train).ToArray());
        trainLine.LegendText = "train";
        var testLine = plot.Add.Scatter(epochs, history.Select(test).ToArray());
        testLine.LegendText = "test";
        plot.Title(title);
        plot.XLabel("epoch");
        plot.YLabel(yLabel);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.ShowLegend(legend);
        Save(plot, path);
    }

    /// <summary>Counts [true class, predicted class] as a heat map with the counts written in the cells.</summary>
    public static void SaveConfusion(string path, long[,] confusion, IReadOnlyList<string> classNames, string title)
    {
        PlotFonts.EnsureRegistered();
        int n = classNames.Count;
        using var plot = new Plot();
        var cells = new double[n, n];
        long max = 1;
        for (int t = 0; t < n; t++)
            for (int p = 0; p < n; p++)
                max = Math.Max(max, confusion[t, p]);
        for (int t = 0; t < n; t++)
            for (int p = 0; p < n; p++)
                cells[t, p] = confusion[t, p];
        // The heat map draws row 0 at the top of its extent: true class t is at y = n - 1 - t.
        var map = plot.Add.Heatmap(cells);
        map.Colormap = new WhiteToBlue();
        map.CellAlignment = Alignment.MiddleCenter;
        map.Extent = new CoordinateRect(0, n - 1, 0, n - 1);   // cell centres; the map covers half a cell more on each side
        plot.Add.ColorBar(map);
        if (n <= 20)
        {
            for (int t = 0; t < n; t++)
                for (int p = 0; p < n; p++)
                {
                    var label = plot.Add.Text(confusion[t, p].ToString(System.Globalization.CultureInfo.InvariantCulture), p, n - 1 - t);
                    label.Alignment = Alignment.MiddleCenter;
                    label.LabelFontSize = n <= 10 ? 12 : 8;
                    label.LabelFontColor = confusion[t, p] > max / 2 ? Colors.White : Colors.Black;
                }
            plot.Axes.Bottom.SetTicks(Enumerable.Range(0, n).Select(p => (double)p).ToArray(), classNames.ToArray());
            plot.Axes.Left.SetTicks(Enumerable.Range(0, n).Select(t => (double)(n - 1 - t)).ToArray(), classNames.ToArray());
            plot.Axes.Bottom.TickLabelStyle.Rotation = 45;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
            plot.Axes.Bottom.MinimumSize = 110;
        }
        plot.Axes.SetLimits(-0.5, n - 0.5, -0.5, n - 0.5);
        plot.Title(title);
        plot.XLabel("predicted class");
        plot.YLabel("true class");
        Save(plot, path, 900, 800);
    }

    private static void Save(Plot plot, string path, int width = Width, int height = Height)
    {
        byte[] png = plot.GetImageBytes(width, height, ImageFormat.Png);
        AtomicFile.Write(path, stream => stream.Write(png));
    }

    /// <summary>White for zero to a deep blue for the largest count.</summary>
    private sealed class WhiteToBlue : IColormap
    {
        public string Name => "white to blue";

        public Color GetColor(double normalizedIntensity)
        {
            double v = double.IsNaN(normalizedIntensity) ? 0 : Math.Clamp(normalizedIntensity, 0, 1);
            return new Color((byte)(255 - v * (255 - 8)), (byte)(255 - v * (255 - 48)), (byte)(255 - v * (255 - 107)));
        }
    }
}
