using System.CommandLine;
using System.Globalization;
using HetConv.Data;
using Spectre.Console;

namespace HetConv.Cli.Commands;

/// <summary>
/// <c>hetconv data</c>: an image folder as training would read it (classes, counts, sizes, unreadable and ignored
/// files) and the decoding pipeline's throughput alone (<see cref="ImageFolderInspection"/>).
/// </summary>
public static class DataCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "image folder: one sub-folder per class, or train/ and val/ holding them", Required = true };
        var imageSize = ImageFolderOptions.ImageSize();
        var workers = ImageFolderOptions.Workers();
        var batchSize = new Option<int>("--batch-size", "-b") { Description = "images per batch for the throughput run", DefaultValueFactory = _ => 64 };
        var throughput = new Option<int>("--throughput")
        {
            Description = "images to decode through the training pipeline (RandomResizedCrop, flips) to time it; 0: none",
            DefaultValueFactory = _ => 512,
        };
        var command = new Command("data", "Report an image folder (classes, counts, sizes, unreadable files) and time its decoding pipeline alone.")
        {
            data, imageSize, workers, batchSize, throughput,
        };
        command.SetAction(result =>
        {
            var settings = new ImageFolderSettings
            {
                ImageSize = result.GetValue(imageSize),
                BadImages = BadImagePolicy.Skip,
                Workers = result.GetValue(workers) ?? ImageFolderSettings.DefaultWorkers,
            };
            var report = CliUsageException.Wrap(() => ImageFolderInspection.Run(result.GetValue(data)!, settings, result.GetValue(throughput), result.GetValue(batchSize)));
            Write(report);
            return 0;
        });
        return command;
    }

    private static void Write(ImageFolderReport report)
    {
        var culture = CultureInfo.InvariantCulture;
        foreach (var split in report.Splits)
        {
            Console.Out.WriteLine(string.Create(culture,
                $"{split.Split}: {split.Root}: {split.ImagesPerClass.Sum()} images in {split.ClassNames.Count} classes (scanned in {split.ScanSeconds:F1} s); " +
                $"sizes {split.Smallest.Width}x{split.Smallest.Height} to {split.Largest.Width}x{split.Largest.Height}, median {split.Median.Width}x{split.Median.Height}"));
            var table = new Table().AddColumns("class", "label", "images");
            for (int c = 0; c < split.ClassNames.Count; c++)
                table.AddRow(Markup.Escape(split.ClassNames[c]), c.ToString(culture), split.ImagesPerClass[c].ToString(culture));
            AnsiConsole.Write(table);
            Console.Out.WriteLine($"unreadable: {split.Unreadable.Count}");
            foreach (var bad in split.Unreadable) Console.Out.WriteLine($"  {bad}");
            Console.Out.WriteLine($"ignored (not image files): {split.Ignored.Count}");
            foreach (var file in split.Ignored) Console.Out.WriteLine($"  {file}");
        }
        if (report.TimedImages > 0)
            Console.Out.WriteLine(string.Create(culture,
                $"pipeline alone: {report.ImagesPerSecond:F1} images/s ({report.TimedImages} images, {report.Settings.ImageSize}x{report.Settings.ImageSize} " +
                $"RandomResizedCrop + flip, batch {report.BatchSize}, {report.Settings.Workers} workers); peak resident memory {report.PeakResidentMegabytes:F0} MB"));
    }
}
