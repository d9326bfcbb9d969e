using CsCheck;
using HetConv.Data;

namespace HetConv.Tests.Data;

/// <summary>
/// Thousands of mutated and truncated files: each either loads (with sizes that match its header) or raises
/// <see cref="DataFormatException"/>; nothing else escapes, and no read allocates more than the file can hold.
/// </summary>
public class ReaderPropertyTests
{
    public sealed record Mutated(byte[] Bytes, bool Images, string Story)
    {
        public override string ToString() => $"{Story} ({Bytes.Length} bytes)";
    }

    private static readonly Gen<byte[]> Mutation =
        Gen.Int[0, 4].SelectMany(kind => Gen.Int[0, 1 << 20].SelectMany(position => Gen.Byte.Array[1, 8].Select(bytes =>
            new[] { (byte)kind }.Concat(BitConverter.GetBytes(position)).Concat(bytes).ToArray())));

    // 0: overwrite bytes, 1: truncate, 2: insert bytes, 3: big-endian int at a header position, 4: nothing.
    private static byte[] Apply(byte[] file, byte[] mutation, int headerLength)
    {
        int kind = mutation[0], position = BitConverter.ToInt32(mutation, 1);
        var bytes = mutation[5..];
        switch (kind)
        {
            case 0:
                var copy = (byte[])file.Clone();
                for (int i = 0; i < bytes.Length && copy.Length > 0; i++) copy[(position + i) % copy.Length] = bytes[i];
                return copy;
            case 1:
                return file[..(position % (file.Length + 1))];
            case 2:
                int at = position % (file.Length + 1);
                return file[..at].Concat(bytes).Concat(file[at..]).ToArray();
            case 3:
                var header = (byte[])file.Clone();
                int offset = 4 * (position % Math.Max(1, headerLength / 4));
                if (offset + 4 <= header.Length)
                    System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(offset), BitConverter.ToInt32(bytes.Concat(new byte[4]).ToArray()));
                return header;
            default:
                return file;
        }
    }

    private static readonly Gen<Mutated> IdxFiles =
        from images in Gen.Bool
        from count in Gen.Int[1, 6]
        from rows in Gen.Int[1, 6]
        from cols in Gen.Int[1, 6]
        from seed in Gen.Int
        from gzip in Gen.Bool
        from mutateCompressed in Gen.Bool
        from mutations in Mutation.Array[1, 3]
        select Build(images, count, rows, cols, seed, gzip, mutateCompressed, mutations);

    private static Mutated Build(bool images, int count, int rows, int cols, int seed, bool gzip, bool mutateCompressed, byte[][] mutations)
    {
        var raw = images
            ? DataFiles.IdxImages(count, rows, cols, DataFiles.Bytes(count * rows * cols, seed))
            : DataFiles.IdxLabels(DataFiles.Bytes(count, seed, 10));
        int headerLength = images ? 16 : 8;
        if (gzip && mutateCompressed)
            raw = DataFiles.Gzip(raw);
        foreach (var m in mutations) raw = Apply(raw, m, gzip && mutateCompressed ? 0 : headerLength);
        if (gzip && !mutateCompressed)
            raw = DataFiles.Gzip(raw);
        return new Mutated(raw, images, $"{(images ? "images" : "labels")} {count}x{rows}x{cols} gzip={gzip} mutated {(mutateCompressed ? "after" : "before")} compression");
    }

    [Fact]
    public void Idx_reader_loads_or_raises_the_data_format_error()
    {
        IdxFiles.Sample(file =>
        {
            using var stream = new MemoryStream(file.Bytes, writable: false);
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                var content = file.Images
                    ? IdxFile.Read(stream, "mutated", IdxFile.ImagesMagic, "images")
                    : IdxFile.Read(stream, "mutated", IdxFile.LabelsMagic, "labels");
                Assert.Equal(content.Dimensions.Aggregate(1L, (a, d) => a * d), content.Data.LongLength);
            }
            catch (DataFormatException e)
            {
                Assert.StartsWith("mutated: ", e.Message);
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            // At most what the file can hold (deflate expands at most ~1032x) plus the readers' buffers.
            Assert.True(allocated <= 1032L * file.Bytes.Length + (1 << 20), $"allocated {allocated} bytes for {file}");
        }, iter: 3000, threads: 1);
    }

    private static readonly Gen<(byte[] Bytes, int LabelBytes)> CifarFiles =
        from labelBytes in Gen.Int[1, 2]
        from records in Gen.Int[1, 3]
        from labels in Gen.Byte[0, 19].Array[records * 2]
        from seed in Gen.Int
        from mutations in Mutation.Array[0, 3]
        let file = DataFiles.CifarRecords(Enumerable.Range(0, records).Select(r => labels.AsSpan(2 * r, labelBytes).ToArray()).ToArray(), seed)
        select (mutations.Aggregate(file, (f, m) => Apply(f, m, 0)), labelBytes);

    [Fact]
    public void Cifar_reader_loads_or_raises_the_data_format_error()
    {
        CifarFiles.Sample(file =>
        {
            using var stream = new MemoryStream(file.Bytes, writable: false);
            long before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                int classes = file.LabelBytes == 1 ? 10 : 100;
                var (images, labels) = CifarBinary.Read(stream, "mutated", file.LabelBytes, classes);
                Assert.Equal(labels.LongLength * CifarBinary.ImageBytes, images.LongLength);
                Assert.Equal(file.Bytes.Length, labels.Length * (file.LabelBytes + CifarBinary.ImageBytes));
                Assert.All(labels, l => Assert.InRange(l, 0, classes - 1));
            }
            catch (DataFormatException e)
            {
                Assert.StartsWith("mutated: ", e.Message);
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated <= 2L * file.Bytes.Length + (1 << 20), $"allocated {allocated} bytes for {file.Bytes.Length} bytes");
        }, iter: 2000, threads: 1);
    }
}
