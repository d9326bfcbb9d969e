namespace HetConv.Data;

/// <summary>Finds and loads a data set from a directory; the default is Debian's Fashion-MNIST package.</summary>
public static class DataSets
{
    /// <summary>Where Debian's <c>dataset-fashion-mnist</c> package installs the IDX files.</summary>
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    public const string InstallHint = "Install Fashion-MNIST with: apt-get install -y dataset-fashion-mnist (as root, or through sudo), or ./setup.sh";

    public static readonly IReadOnlyList<string> FashionMnistClasses = new[]
    {
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    };

    /// <summary>Command-line names: fashion-mnist, mnist, cifar10, cifar100, folder.</summary>
    public static string Name(DataSetKind kind) => kind switch
    {
        DataSetKind.FashionMnist => "fashion-mnist",
        DataSetKind.Mnist => "mnist",
        DataSetKind.Cifar10 => "cifar10",
        DataSetKind.Cifar100 => "cifar100",
        DataSetKind.ImageFolder => "folder",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static DataSetKind Parse(string name)
    {
        foreach (var kind in Enum.GetValues<DataSetKind>())
            if (Name(kind).Equals(name.Trim(), StringComparison.OrdinalIgnoreCase))
                return kind;
        throw new ArgumentException($"unknown data set '{name}'; known: {string.Join(", ", Enum.GetValues<DataSetKind>().Select(Name))}.");
    }

    /// <summary>The kind named, or for "auto" the kind the directory's files show (see <see cref="Detect"/>).</summary>
    public static DataSetKind Resolve(string name, string directory) =>
        name.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase) ? Detect(directory) : Parse(name);

    /// <summary>
    /// The kind a directory holds, from its file names: CIFAR-10's or CIFAR-100's binary files, an image folder
    /// (<see cref="ImageFolder.Looks"/>), otherwise MNIST format (Fashion-MNIST when it is the default directory or named so).
    /// </summary>
    public static DataSetKind Detect(string directory)
    {
        bool Has(string file) =>
            File.Exists(Path.Combine(directory, file)) || Directory.EnumerateDirectories(directory).Any(d => File.Exists(Path.Combine(d, file)));
        if (Directory.Exists(directory))
        {
            if (Has("data_batch_1.bin") || Has("test_batch.bin")) return DataSetKind.Cifar10;
            if (Has("train.bin") || Has("test.bin")) return DataSetKind.Cifar100;
            if (ImageFolder.Looks(directory)) return DataSetKind.ImageFolder;
        }
        return Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory)))
            .Contains("fashion", StringComparison.OrdinalIgnoreCase) ? DataSetKind.FashionMnist : DataSetKind.Mnist;
    }

    /// <summary>A split as a source: an image folder streamed with <paramref name="folder"/>'s settings, the others loaded whole.</summary>
    public static IImageSource Open(DataSetKind kind, string directory, DataSplit split, ImageFolderSettings? folder = null) =>
        kind == DataSetKind.ImageFolder ? ImageFolderSource.Open(directory, split, folder ?? new ImageFolderSettings()) : Load(kind, directory, split);

    /// <summary>An IDX or CIFAR split, whole in memory.</summary>
    public static ImageDataSet Load(DataSetKind kind, string directory, DataSplit split)
    {
        bool isDefault = Path.GetFullPath(directory).TrimEnd('/') == DefaultDirectory;
        return kind switch
        {
            DataSetKind.FashionMnist => MnistFormat.Load(directory, split, Name(kind), FashionMnistClasses, isDefault ? InstallHint : null),
            DataSetKind.Mnist => MnistFormat.Load(directory, split, Name(kind), Digits, isDefault ? InstallHint : null),
            DataSetKind.Cifar10 => CifarBinary.LoadCifar10(directory, split),
            DataSetKind.Cifar100 => CifarBinary.LoadCifar100(directory, split),
            DataSetKind.ImageFolder => throw new ArgumentException("an image folder is streamed, not loaded whole: open it with DataSets.Open."),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
    }

    private static readonly IReadOnlyList<string> Digits = Enumerable.Range(0, 10).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray();
}
