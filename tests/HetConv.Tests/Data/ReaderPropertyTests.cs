using System.Buffers.Binary;
using System.IO.Compression;
using CsCheck;
using HetConv.Data;

namespace HetConv.Tests.Data;

/// <summary>
/// Thousands of mutated and truncated files, judged by an oracle written from the formats' descriptions: a file the
/// oracle finds valid (unmutated, or mutated into another valid file) must load with exactly its sizes, labels and
/// pixels; any other must raise <see cref="DataFormatException"/>. Nothing else escapes, no read allocates more than
/// the file can hold, and enough of the files are valid that a reader refusing everything fails.
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

    /// <summary>
    /// The oracle: gzip (magic 1f 8b) is inflated first; then an IDX file of unsigned bytes is 00 00 08 rank, rank
    /// positive big-endian sizes, and exactly their product of data bytes. Null when the file is not one.
    /// </summary>
    private static (int[] Dimensions, byte[] Data)? ValidIdx(byte[] file, int rank)
    {
        if (file.Length >= 2 && file[0] == 0x1f && file[1] == 0x8b)
        {
            try
            {
                using var inflate = new GZipStream(new MemoryStream(file), CompressionMode.Decompress);
                using var raw = new MemoryStream();
                inflate.CopyTo(raw);
                file = raw.ToArray();
            }
            catch (InvalidDataException)
            {
                return null;
            }
        }
        int header = 4 + 4 * rank;
        if (file.Length < header || file[0] != 0 || file[1] != 0 || file[2] != 0x08 || file[3] != rank) return null;
        var dims = new int[rank];
        long product = 1;
        for (int i = 0; i < rank; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(4 + 4 * i));
            if (dims[i] <= 0) return null;
            product *= dims[i];
            if (product > file.Length) return null;
        }
        return product == file.Length - header ? (dims, file[header..]) : null;
    }

    [Fact]
    public void Idx_reader_loads_exactly_the_valid_files_and_raises_the_data_format_error_for_the_rest()
    {
        int valid = 0, samples = 0;
        IdxFiles.Sample(file =>
        {
            samples++;
            var expected = ValidIdx(file.Bytes, file.Images ? 3 : 1);
            using var stream = new MemoryStream(file.Bytes, writable: false);
            long before = GC.GetAllocatedBytesForCurrentThread();
            IdxFile.Content? content = null;
            try
            {
                content = file.Images
                    ? IdxFile.Read(stream, "mutated", IdxFile.ImagesMagic, "images")
                    : IdxFile.Read(stream, "mutated", IdxFile.LabelsMagic, "labels");
            }
            catch (DataFormatException e)
            {
                Assert.StartsWith("mutated: ", e.Message);
                Assert.True(expected is null, $"a valid file was refused: {e.Message}");
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (content is not null)
            {
                Assert.True(expected is not null, "an invalid file was loaded");
                Assert.Equal(expected!.Value.Dimensions, content.Dimensions);
                Assert.Equal(expected.Value.Data, content.Data);
                valid++;
            }
            // At most what the file can hold (deflate expands at most ~1032x) plus the readers' buffers.
            Assert.True(allocated <= 1032L * file.Bytes.Length + (1 << 20), $"allocated {allocated} bytes for {file}");
        }, iter: 3000, threads: 1);
        Assert.True(valid >= samples / 50, $"only {valid} of {samples} files were valid: the oracle's positive side is barely tried");
    }

    private static readonly Gen<(byte[] Bytes, int LabelBytes)> CifarFiles =
        from labelBytes in Gen.Int[1, 2]
        from records in Gen.Int[1, 3]
        from labels in Gen.Byte[0, 19].Array[records * 2]
        from seed in Gen.Int
        from mutations in Mutation.Array[0, 3]
        let file = DataFiles.CifarRecords(Enumerable.Range(0, records).Select(r => labels.AsSpan(2 * r, labelBytes).ToArray()).ToArray(), seed)
        select (mutations.Aggregate(file, (f, m) => Apply(f, m, 0)), labelBytes);

    /// <summary>
    /// The oracle: whole records of label byte(s) then 3072 pixels, at least one; CIFAR-10's label below 10;
    /// CIFAR-100's coarse label below 20 and its fine one (the second byte, the one used) below 100.
    /// </summary>
    private static (byte[] Images, byte[] Labels)? ValidCifar(byte[] file, int labelBytes)
    {
        int record = labelBytes + 3072;
        if (file.Length == 0 || file.Length % record != 0) return null;
        int count = file.Length / record;
        var images = new byte[count * 3072];
        var labels = new byte[count];
        for (int r = 0; r < count; r++)
        {
            var bytes = file.AsSpan(r * record, record);
            if (labelBytes == 1 ? bytes[0] >= 10 : bytes[0] >= 20 || bytes[1] >= 100) return null;
            labels[r] = bytes[labelBytes - 1];
            bytes[labelBytes..].CopyTo(images.AsSpan(r * 3072));
        }
        return (images, labels);
    }

    [Fact]
    public void Cifar_reader_loads_exactly_the_valid_files_and_raises_the_data_format_error_for_the_rest()
    {
        int valid = 0, samples = 0;
        CifarFiles.Sample(file =>
        {
            samples++;
            var expected = ValidCifar(file.Bytes, file.LabelBytes);
            using var stream = new MemoryStream(file.Bytes, writable: false);
            long before = GC.GetAllocatedBytesForCurrentThread();
            (byte[] Images, byte[] Labels)? loaded = null;
            try
            {
                loaded = CifarBinary.Read(stream, "mutated", file.LabelBytes, file.LabelBytes == 1 ? 10 : 100);
            }
            catch (DataFormatException e)
            {
                Assert.StartsWith("mutated: ", e.Message);
                Assert.True(expected is null, $"a valid file was refused: {e.Message}");
            }
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            if (loaded is { } content)
            {
                Assert.True(expected is not null, "an invalid file was loaded");
                Assert.Equal(expected!.Value.Labels, content.Labels);
                Assert.Equal(expected.Value.Images, content.Images);
                valid++;
            }
            Assert.True(allocated <= 2L * file.Bytes.Length + (1 << 20), $"allocated {allocated} bytes for {file.Bytes.Length} bytes");
        }, iter: 2000, threads: 1);
        Assert.True(valid >= samples / 50, $"only {valid} of {samples} files were valid: the oracle's positive side is barely tried");
    }
}
