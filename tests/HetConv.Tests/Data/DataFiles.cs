using System.Buffers.Binary;
using System.IO.Compression;

namespace HetConv.Tests.Data;

/// <summary>Writes data files in the formats the readers take, from the format descriptions (not the readers).</summary>
internal static class DataFiles
{
    /// <summary>IDX bytes: 0x00 0x00 0x08 rank, big-endian sizes, then the data.</summary>
    public static byte[] Idx(int rank, int[] dims, byte[] data)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = 0x08;
        bytes[3] = (byte)rank;
        for (int i = 0; i < dims.Length; i++)
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    public static byte[] IdxImages(int count, int rows, int cols, byte[] pixels) => Idx(3, new[] { count, rows, cols }, pixels);

    public static byte[] IdxLabels(byte[] labels) => Idx(1, new[] { labels.Length }, labels);

    public static byte[] Gzip(byte[] raw)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
            gzip.Write(raw);
        return output.ToArray();
    }

    /// <summary>Deterministic pseudo-random bytes.</summary>
    public static byte[] Bytes(int count, int seed, int max = 256)
    {
        var random = new Random(seed);
        var bytes = new byte[count];
        for (int i = 0; i < count; i++) bytes[i] = (byte)random.Next(max);
        return bytes;
    }

    /// <summary>An MNIST-format directory with <paramref name="train"/> and <paramref name="test"/> images of size x size.</summary>
    public static string MnistDirectory(TempDirectory dir, int train, int test, int size = 8, bool gzip = true, byte[]? trainLabels = null)
    {
        void Write(string name, byte[] raw) =>
            File.WriteAllBytes(Path.Combine(dir.Path, gzip ? name + ".gz" : name), gzip ? Gzip(raw) : raw);
        Write("train-images-idx3-ubyte", IdxImages(train, size, size, Bytes(train * size * size, 1)));
        Write("train-labels-idx1-ubyte", IdxLabels(trainLabels ?? Bytes(train, 2, 10)));
        Write("t10k-images-idx3-ubyte", IdxImages(test, size, size, Bytes(test * size * size, 3)));
        Write("t10k-labels-idx1-ubyte", IdxLabels(Bytes(test, 4, 10)));
        return dir.Path;
    }

    /// <summary>CIFAR binary records: label byte(s), then 3072 pixels.</summary>
    public static byte[] CifarRecords(byte[][] labels, int seed)
    {
        int labelBytes = labels[0].Length, record = labelBytes + 3072;
        var bytes = new byte[labels.Length * record];
        var pixels = Bytes(labels.Length * 3072, seed);
        for (int i = 0; i < labels.Length; i++)
        {
            labels[i].CopyTo(bytes, i * record);
            pixels.AsSpan(i * 3072, 3072).CopyTo(bytes.AsSpan(i * record + labelBytes));
        }
        return bytes;
    }
}
