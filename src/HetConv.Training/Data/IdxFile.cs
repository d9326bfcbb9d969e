using System.Buffers.Binary;
using System.IO.Compression;

namespace HetConv.Data;

/// <summary>
/// Reads IDX files (the MNIST format: big-endian header, unsigned bytes), raw or gzip-compressed, recognised by
/// content rather than name. Every size in the header is checked against what the file can hold before
/// anything is allocated, so a corrupt header cannot ask for gigabytes.
/// </summary>
public static class IdxFile
{
    /// <summary>Images: magic 0x00000803 (unsigned bytes, 3 dimensions), then count, rows, columns.</summary>
    public const int ImagesMagic = 0x0803;

    /// <summary>Labels: magic 0x00000801 (unsigned bytes, 1 dimension), then count.</summary>
    public const int LabelsMagic = 0x0801;

    // Deflate cannot expand data by more than about 1032:1, so a gzip file of n bytes holds at most this much.
    private const long MaxDeflateRatio = 1032;

    /// <summary>An IDX file's content: its dimension sizes and its bytes.</summary>
    public sealed record Content(int[] Dimensions, byte[] Data);

    /// <summary>Images as [count, rows, columns] bytes.</summary>
    public static Content ReadImages(string path) => Read(path, ImagesMagic, "images");

    /// <summary>Labels as [count] bytes.</summary>
    public static Content ReadLabels(string path) => Read(path, LabelsMagic, "labels");

    public static Content Read(string path, int magic, string what)
    {
        using var file = DataFile.OpenRead(path, $"IDX {what} file");
        return Read(file, path, magic, what);
    }

    /// <summary>The dimension sizes in the header alone (e.g. to compare two files without reading them).</summary>
    public static int[] ReadDimensions(string path, int magic, string what)
    {
        using var file = DataFile.OpenRead(path, $"IDX {what} file");
        if (!IsGzip(file))
            return ReadHeader(file, path, magic, what).Dimensions;
        using var inflated = new GZipStream(file, CompressionMode.Decompress, leaveOpen: true);
        try
        {
            return ReadHeader(inflated, path, magic, what).Dimensions;
        }
        catch (Exception e) when (e is InvalidDataException or IOException and not EndOfStreamException)
        {
            throw new DataFormatException(path, $"is not a valid gzip stream ({e.Message}).", inner: e);
        }
    }

    /// <summary>Reads from a seekable stream of known length; <paramref name="name"/> names it in errors.</summary>
    public static Content Read(Stream stream, string name, int magic, string what)
    {
        long start = stream.Position, length = stream.Length - start;
        if (!IsGzip(stream))
            return ReadPayload(stream, name, magic, what, maxPayload: length, exactLength: length);

        using var inflated = new GZipStream(stream, CompressionMode.Decompress, leaveOpen: true);
        try
        {
            return ReadPayload(inflated, name, magic, what, maxPayload: length * MaxDeflateRatio, exactLength: null);
        }
        catch (Exception e) when (e is InvalidDataException or IOException and not EndOfStreamException)
        {
            // zlib reports a failed CRC as it does any corrupt data ("unsupported compression method"); say which.
            stream.Position = start;
            string problem = GzipCheck.Diagnose(stream) ?? $"is not a valid gzip stream ({e.Message}).";
            throw new DataFormatException(name, problem, inner: e);
        }
    }

    private static bool IsGzip(Stream stream)
    {
        Span<byte> head = stackalloc byte[2];
        int got = stream.ReadAtLeast(head, 2, throwOnEndOfStream: false);
        stream.Seek(-got, SeekOrigin.Current);
        return got == 2 && head[0] == 0x1f && head[1] == 0x8b;
    }

    private static (int[] Dimensions, int HeaderLength) ReadHeader(Stream stream, string name, int magic, string what)
    {
        int rank = magic & 0xff;
        Span<byte> header = stackalloc byte[4 + 4 * 3];
        int headerLength = 4 + 4 * rank;
        int got = stream.ReadAtLeast(header[..4], 4, throwOnEndOfStream: false);
        if (got < 4)
            throw new DataFormatException(name, $"is truncated: an IDX {what} file starts with a 4-byte magic number, found only {got} bytes.");
        int found = BinaryPrimitives.ReadInt32BigEndian(header);
        if (found != magic)
            throw new DataFormatException(name,
                $"is not an IDX {what} file: expected magic number 0x{magic:X8} (unsigned bytes, {rank} dimension{(rank == 1 ? "" : "s")}), found 0x{found:X8}.");
        got += stream.ReadAtLeast(header[4..headerLength], headerLength - 4, throwOnEndOfStream: false);
        if (got < headerLength)
            throw new DataFormatException(name, $"is truncated: its header needs {headerLength} bytes, found {got}.");

        var dims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(header[(4 + 4 * i)..]);
            if (dims[i] <= 0)
                throw new DataFormatException(name, $"has dimension {i} of size {dims[i]} in its header; sizes must be positive.");
        }
        return (dims, headerLength);
    }

    private static Content ReadPayload(Stream stream, string name, int magic, string what, long maxPayload, long? exactLength)
    {
        var (dims, headerLength) = ReadHeader(stream, name, magic, what);
        long payload = 1;
        foreach (int d in dims)
        {
            payload *= d; // below 2^31 times below 2^31 before the check: no overflow in a long
            if (payload > Array.MaxLength)
                throw new DataFormatException(name, $"claims {Shape(dims)} bytes, more than one array can hold.");
        }
        if (exactLength is { } length && headerLength + payload != length)
            throw new DataFormatException(name, length < headerLength + payload
                ? $"is truncated: its header claims {Shape(dims)} ({headerLength + payload} bytes), but the file has {length} bytes."
                : $"has {length - headerLength - payload} bytes after the {Shape(dims)} its header claims; it is not an IDX {what} file.");
        if (payload > maxPayload)
            throw new DataFormatException(name,
                $"claims {Shape(dims)} ({payload} bytes), more than its compressed size can hold (at most {maxPayload} bytes); the header is corrupt.");

        var data = new byte[payload];
        int read = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        if (read < data.Length)
            throw new DataFormatException(name, $"is truncated: its header claims {Shape(dims)} ({payload} bytes of data), found {read}.");
        if (exactLength is null && stream.ReadByte() >= 0)
            throw new DataFormatException(name, $"has data after the {Shape(dims)} its header claims; it is not an IDX {what} file.");
        return new Content(dims, data);
    }

    private static string Shape(int[] dims) => string.Join(" x ", dims);
}
