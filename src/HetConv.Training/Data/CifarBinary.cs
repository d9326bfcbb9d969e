namespace HetConv.Data;

/// <summary>
/// CIFAR-10 and CIFAR-100 in their binary form: records of label byte(s) then 3x32x32 pixels (red, green, blue
/// planes). CIFAR-10: <c>data_batch_1..5.bin</c> and <c>test_batch.bin</c>, one label; CIFAR-100: <c>train.bin</c>
/// and <c>test.bin</c>, a coarse then a fine label (the fine one, 100 classes, is used).
/// </summary>
public static class CifarBinary
{
    public const int ImageBytes = 3 * 32 * 32;

    public static ImageDataSet LoadCifar10(string directory, DataSplit split)
    {
        string dir = Unpacked(directory, "cifar-10-batches-bin");
        string[] files = split == DataSplit.Train
            ? Enumerable.Range(1, 5).Select(i => $"data_batch_{i}.bin").ToArray()
            : new[] { "test_batch.bin" };
        return Load(dir, files, "cifar10", labelBytes: 1, classCount: 10, Cifar10Classes);
    }

    public static ImageDataSet LoadCifar100(string directory, DataSplit split)
    {
        string dir = Unpacked(directory, "cifar-100-binary");
        string[] files = { split == DataSplit.Train ? "train.bin" : "test.bin" };
        return Load(dir, files, "cifar100", labelBytes: 2, classCount: 100,
            Enumerable.Range(0, 100).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray());
    }

    /// <summary>Reads one binary file of records with <paramref name="labelBytes"/> label bytes, the last one used.</summary>
    public static (byte[] Images, byte[] Labels) ReadFile(string path, int labelBytes, int classCount)
    {
        using var stream = DataFile.OpenRead(path,
            $"CIFAR binary file ({labelBytes} label byte{(labelBytes == 1 ? "" : "s")} + {ImageBytes} pixel bytes per record)");
        return Read(stream, path, labelBytes, classCount);
    }

    /// <summary>Reads records from a seekable stream; <paramref name="name"/> names it in errors.</summary>
    public static (byte[] Images, byte[] Labels) Read(Stream stream, string name, int labelBytes, int classCount)
    {
        int recordBytes = labelBytes + ImageBytes;
        long length = stream.Length - stream.Position;
        if (length == 0 || length % recordBytes != 0)
            throw new DataFormatException(name,
                $"has {length} bytes; expected a positive multiple of the {recordBytes}-byte record " +
                $"({labelBytes} label byte{(labelBytes == 1 ? "" : "s")} + {ImageBytes} pixels). The file is truncated or not this CIFAR variant.");
        long count = length / recordBytes;
        if (count * ImageBytes > Array.MaxLength)
            throw new DataFormatException(name, $"holds {count} records, more than one array can hold.");
        var images = new byte[count * ImageBytes];
        var labels = new byte[count];
        var record = new byte[recordBytes];
        for (long i = 0; i < count; i++)
        {
            stream.ReadExactly(record);
            byte label = record[labelBytes - 1];
            if (label >= classCount)
                throw new DataFormatException(name, $"record {i} has label {label}; expected a class in 0..{classCount - 1}.");
            if (labelBytes == 2 && record[0] >= 20)
                throw new DataFormatException(name, $"record {i} has coarse label {record[0]}; expected a superclass in 0..19.");
            labels[i] = label;
            record.AsSpan(labelBytes).CopyTo(images.AsSpan((int)(i * ImageBytes), ImageBytes));
        }
        return (images, labels);
    }

    private static ImageDataSet Load(string dir, string[] files, string name, int labelBytes, int classCount, IReadOnlyList<string> classNames)
    {
        var parts = files.Select(f => ReadFile(Path.Combine(dir, f), labelBytes, classCount)).ToList();
        var images = Concat(parts.Select(p => p.Images).ToList());
        var labels = Concat(parts.Select(p => p.Labels).ToList());
        return new ImageDataSet(name, images, labels, 3, 32, 32, classNames);
    }

    private static byte[] Concat(List<byte[]> arrays)
    {
        var all = new byte[arrays.Sum(a => (long)a.Length)];
        long offset = 0;
        foreach (var a in arrays)
        {
            a.CopyTo(all, offset);
            offset += a.Length;
        }
        return all;
    }

    // The archives unpack into a sub-directory; accept either it or its parent.
    private static string Unpacked(string directory, string archiveFolder)
    {
        DataFile.RequireDirectory(directory, "CIFAR binary directory");
        string inner = Path.Combine(directory, archiveFolder);
        return Directory.Exists(inner) ? inner : directory;
    }

    public static readonly IReadOnlyList<string> Cifar10Classes =
        new[] { "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck" };
}
