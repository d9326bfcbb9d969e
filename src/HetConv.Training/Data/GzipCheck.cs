using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace HetConv.Data;

/// <summary>
/// Says why a gzip file failed to decompress. zlib gives one message for every fault, so a file whose data
/// decompresses but whose CRC-32 or length in the trailer disagrees (a flipped bit, a bad copy) would read as
/// "unsupported compression method". Decompressing the deflate data alone and comparing with the trailer tells
/// the two apart.
/// </summary>
internal static class GzipCheck
{
    private const byte HeaderCrcFlag = 2, ExtraFlag = 4, NameFlag = 8, CommentFlag = 16;

    /// <summary>A one-line problem for a single-member gzip stream at its start, or null when none is found.</summary>
    public static string? Diagnose(Stream stream)
    {
        long start = stream.Position, length = stream.Length - start;
        if (length < 18) return $"is truncated: a gzip stream needs at least 18 bytes, found {length}.";
        var trailer = new byte[8];
        stream.Position = start + length - 8;
        stream.ReadExactly(trailer);
        uint storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(trailer), storedLength = BinaryPrimitives.ReadUInt32LittleEndian(trailer.AsSpan(4));
        stream.Position = start;
        try
        {
            SkipHeader(stream);
            var crc = new Crc32();
            long size = 0;
            using (var deflate = new DeflateStream(stream, CompressionMode.Decompress, leaveOpen: true))
            {
                var buffer = new byte[1 << 16];
                for (int n; (n = deflate.Read(buffer)) > 0; size += n)
                    crc.Append(buffer.AsSpan(0, n));
            }
            uint computed = crc.GetCurrentHashAsUInt32();
            if (computed != storedCrc)
                return $"fails its gzip CRC check (stored 0x{storedCrc:X8}, computed 0x{computed:X8}): the file is corrupt; fetch it again.";
            if ((uint)size != storedLength)
                return $"fails its gzip length check (stored {storedLength} bytes, decompressed {size}): the file is corrupt; fetch it again.";
            return null;
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            return $"is not a valid gzip stream: its compressed data is corrupt ({e.Message}).";
        }
    }

    // RFC 1952: ID1 ID2 CM FLG MTIME(4) XFL OS, then the optional fields FLG names.
    private static void SkipHeader(Stream stream)
    {
        var fixedPart = new byte[10];
        stream.ReadExactly(fixedPart);
        if (fixedPart[2] != 8) throw new InvalidDataException($"compression method {fixedPart[2]}, not deflate (8)");
        byte flags = fixedPart[3];
        if ((flags & ExtraFlag) != 0)
        {
            Span<byte> size = stackalloc byte[2];
            stream.ReadExactly(size);
            stream.Position += BinaryPrimitives.ReadUInt16LittleEndian(size);
        }
        if ((flags & NameFlag) != 0) SkipZeroTerminated(stream);
        if ((flags & CommentFlag) != 0) SkipZeroTerminated(stream);
        if ((flags & HeaderCrcFlag) != 0) stream.Position += 2;
    }

    private static void SkipZeroTerminated(Stream stream)
    {
        int b;
        while ((b = stream.ReadByte()) > 0) { }
        if (b < 0) throw new EndOfStreamException("the gzip header ends inside a name or comment");
    }
}
