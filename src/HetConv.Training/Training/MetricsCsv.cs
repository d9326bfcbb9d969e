using System.Globalization;
using System.Text;
using HetConv.Files;

namespace HetConv.Training;

/// <summary>The run's per-epoch metrics as CSV (<c>metrics.csv</c>), rewritten whole after each epoch.</summary>
public static class MetricsCsv
{
    public const string Header = "epoch,lr,train_loss,train_accuracy,test_loss,test_accuracy,seconds,images_per_second,resident_mib";

    public static string Format(IEnumerable<EpochMetrics> history)
    {
        var text = new StringBuilder(Header).Append('\n');
        foreach (var m in history)
            text.Append(string.Create(CultureInfo.InvariantCulture,
                $"{m.Epoch},{m.LearningRate:G6},{m.TrainLoss:F6},{m.TrainAccuracy:F6},{m.TestLoss:F6},{m.TestAccuracy:F6},{m.Seconds:F2},{m.ImagesPerSecond:F1},{m.ResidentMiB:F1}\n"));
        return text.ToString();
    }

    public static void Write(string path, IEnumerable<EpochMetrics> history) => AtomicFile.WriteText(path, Format(history));

    public static IReadOnlyList<EpochMetrics> Read(string path)
    {
        var lines = File.ReadAllLines(path);
        if (lines.Length == 0 || lines[0] != Header)
            throw new InvalidDataException($"{path}: expected the header '{Header}'.");
        return lines.Skip(1).Where(l => l.Length > 0).Select(line =>
        {
            var f = line.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            return new EpochMetrics((int)f[0], f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8]);
        }).ToList();
    }
}
