using HetConv.Data;

namespace HetConv.Tests.Data;

/// <summary>
/// A gzip file that fails to decompress is reported by what is wrong: its CRC, its length, or its compressed
/// data (zlib's own message is the same for all three).
/// </summary>
public class GzipFaultTests
{
    private static readonly byte[] Labels = DataFiles.Gzip(DataFiles.IdxLabels(DataFiles.Bytes(50, 7, 10)));

    private static string Problem(byte[] file)
    {
        using var stream = new MemoryStream(file);
        return Assert.Throws<DataFormatException>(() => IdxFile.Read(stream, "labels.gz", IdxFile.LabelsMagic, "labels")).Message;
    }

    [Fact]
    public void The_intact_file_reads()
    {
        using var stream = new MemoryStream(Labels);
        Assert.Equal(DataFiles.Bytes(50, 7, 10), IdxFile.Read(stream, "labels.gz", IdxFile.LabelsMagic, "labels").Data);
    }

    [Fact]
    public void A_wrong_crc_is_named()
    {
        var file = Labels.ToArray();
        file[^7] ^= 0x10;
        Assert.StartsWith("labels.gz: fails its gzip CRC check (stored 0x", Problem(file));
    }

    [Fact]
    public void A_wrong_length_is_named()
    {
        var file = Labels.ToArray();
        file[^4] ^= 0x01;   // ISIZE, the uncompressed length modulo 2^32
        Assert.StartsWith("labels.gz: fails its gzip length check (stored ", Problem(file));
    }

    [Fact]
    public void Corrupt_compressed_data_is_named()
    {
        var file = Labels.ToArray();
        file[10] |= 0b110;   // the first deflate block's type: 11 is reserved (RFC 1951)
        Assert.StartsWith("labels.gz: is not a valid gzip stream", Problem(file));
    }
}
