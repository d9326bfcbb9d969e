namespace HetConv.Data;

/// <summary>
/// TorchVision's ImageFolder layout: one sub-folder per class, its images anywhere below it; classes sorted by
/// ordinal name, images by ordinal path. A directory holding <c>train/</c> (and <c>val/</c>) is split so;
/// otherwise its class folders serve both splits. Files whose names are not images' (<see cref="ImageDecoder.Extensions"/>)
/// are left out and listed as ignored; images whose headers cannot be read are bad (<see cref="BadImagePolicy"/>).
/// </summary>
public static class ImageFolder
{
    public const string TrainFolder = "train", ValFolder = "val";

    /// <summary>A scanned folder: files with their labels, and what was left out.</summary>
    public sealed record Listing(string Root, IReadOnlyList<string> ClassNames, string[] Files, int[] Labels,
        IReadOnlyList<(int Width, int Height)> Sizes, IReadOnlyList<BadImage> Bad, IReadOnlyList<string> Ignored);

    /// <summary>Whether <paramref name="directory"/> looks like an image folder (train/, or a sub-folder holding an image).</summary>
    public static bool Looks(string directory) =>
        Directory.Exists(directory) && (Directory.Exists(Path.Combine(directory, TrainFolder)) ||
            Directory.EnumerateDirectories(directory).Any(d => Directory.EnumerateFiles(d, "*", SearchOption.AllDirectories).Any(IsImageName)));

    /// <summary>The folder a split reads: train/ or val/ when the directory has train/, else the directory itself.</summary>
    public static string SplitRoot(string directory, DataSplit split)
    {
        if (!Directory.Exists(directory))
            throw new DataFormatException(directory, "the image folder does not exist.");
        string train = Path.Combine(directory, TrainFolder);
        if (!Directory.Exists(train)) return directory;
        if (split == DataSplit.Train) return train;
        string val = Path.Combine(directory, ValFolder);
        return Directory.Exists(val) ? val
            : throw new DataFormatException(directory, $"has {TrainFolder}/ but no {ValFolder}/ to evaluate on: add {ValFolder}/ with the same class folders.");
    }

    /// <summary>
    /// Lists a split's images and checks each one's header on <paramref name="workers"/> threads. Errors (no
    /// classes, an empty class, a val/ class not in train/, a bad image under <see cref="BadImagePolicy.Fail"/>)
    /// are <see cref="DataFormatException"/>s naming the folder or file.
    /// </summary>
    public static Listing Scan(string directory, DataSplit split, BadImagePolicy policy, int workers)
    {
        string root = SplitRoot(directory, split);
        var classes = ClassFolders(root);
        IReadOnlyList<string> classNames = classes;
        if (root != directory && split == DataSplit.Test)
        {
            classNames = ClassFolders(Path.Combine(directory, TrainFolder));
            if (classes.FirstOrDefault(c => !classNames.Contains(c, StringComparer.Ordinal)) is { } stray)
                throw new DataFormatException(Path.Combine(root, stray), $"is a class that {TrainFolder}/ does not have, so no label fits it: add it to {TrainFolder}/ or remove it.");
        }
        var files = new List<string>();
        var labels = new List<int>();
        var ignored = new List<string>();
        foreach (string name in classes)
        {
            string folder = Path.Combine(root, name);
            int label = IndexOf(classNames, name);
            foreach (string file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                if (!IsImageName(file))
                {
                    ignored.Add(file);
                    continue;
                }
                files.Add(file);
                labels.Add(label);
            }
        }

        var sizes = new (int Width, int Height)[files.Count];
        var problems = new string?[files.Count];
        Workers.For(files.Count, workers, i =>
        {
            try
            {
                sizes[i] = ImageDecoder.Size(files[i]);
            }
            catch (DataFormatException e)
            {
                problems[i] = e.Message[(files[i].Length + 2)..];
            }
        });
        var bad = new List<BadImage>();
        var keep = new List<int>();
        for (int i = 0; i < files.Count; i++)
        {
            if (problems[i] is null) keep.Add(i);
            else bad.Add(new BadImage(files[i], problems[i]!));
        }
        if (bad.Count > 0 && policy == BadImagePolicy.Fail)
            throw new DataFormatException(bad[0].Path, $"{bad[0].Reason} ({bad.Count} bad image file{(bad.Count == 1 ? "" : "s")} in {root}; " +
                "remove them, or pass --bad-images skip to leave them out)");
        foreach (string name in classes)
            if (!keep.Any(i => labels[i] == IndexOf(classNames, name)))
                throw new DataFormatException(Path.Combine(root, name), $"the class folder holds no readable images ({string.Join(", ", ImageDecoder.Extensions.Order())}): " +
                    "add images or remove the folder.");
        return new Listing(root, classNames, keep.Select(i => files[i]).ToArray(), keep.Select(i => labels[i]).ToArray(),
            keep.Select(i => sizes[i]).ToArray(), bad, ignored);
    }

    private static bool IsImageName(string path) => ImageDecoder.Extensions.Contains(Path.GetExtension(path));

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (int i = 0; i < names.Count; i++)
            if (string.Equals(names[i], name, StringComparison.Ordinal)) return i;
        return -1;
    }

    private static string[] ClassFolders(string root)
    {
        if (!Directory.Exists(root))
            throw new DataFormatException(root, "the image folder does not exist.");
        var classes = Directory.EnumerateDirectories(root).Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal).ToArray();
        return classes.Length > 0 ? classes
            : throw new DataFormatException(root, "holds no class folders: an image folder has one sub-folder per class (or train/ and val/ holding them).");
    }
}
