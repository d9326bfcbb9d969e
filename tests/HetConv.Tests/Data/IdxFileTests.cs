using HetConv.Data;

namespace HetConv.Tests.Data;

public class IdxFileTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Reads_images_and_labels_raw_or_gzip(bool gzip)
    {
        using var dir = new TempDirectory();
        var pixels = DataFiles.Bytes(5 * 4 * 3, 7);
        var labels = new byte[] { 3, 1, 4, 1, 5 };
        byte[] images = DataFiles.IdxImages(5, 4, 3, pixels), labelFile = DataFiles.IdxLabels(labels);
        File.WriteAllBytes(dir.File("i"), gzip ? DataFiles.Gzip(images) : images);
        File.WriteAllBytes(dir.File("l"), gzip ? DataFiles.Gzip(labelFile) : labelFile);

        var readImages = IdxFile.ReadImages(dir.File("i"));
        var readLabels = IdxFile.ReadLabels(dir.File("l"));

        Assert.Equal(new[] { 5, 4, 3 }, readImages.Dimensions);
        Assert.Equal(pixels, readImages.Data);
        Assert.Equal(new[] { 5 }, readLabels.Dimensions);
        Assert.Equal(labels, readLabels.Data);
    }

    [Fact]
    public void Wrong_magic_number_names_the_file_and_both_numbers()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("labels-as-images"), DataFiles.IdxLabels(new byte[] { 1, 2 }));
        var e = Assert.Throws<DataFormatException>(() => IdxFile.ReadImages(dir.File("labels-as-images")));
        Assert.Contains("labels-as-images", e.Message);
        Assert.Contains("0x00000803", e.Message);
        Assert.Contains("0x00000801", e.Message);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Truncated_file_says_what_the_header_claims_and_what_was_found(bool gzip)
    {
        using var dir = new TempDirectory();
        var full = DataFiles.IdxImages(10, 8, 8, DataFiles.Bytes(640, 1));
        var cut = full[..(full.Length - 100)];
        File.WriteAllBytes(dir.File("cut"), gzip ? DataFiles.Gzip(cut) : cut);
        var e = Assert.Throws<DataFormatException>(() => IdxFile.ReadImages(dir.File("cut")));
        Assert.Contains("truncated", e.Message);
        Assert.Contains("10 x 8 x 8", e.Message);
        Assert.Equal(dir.File("cut"), e.FilePath);
    }

    [Fact]
    public void Gzip_stream_cut_in_the_middle_is_a_data_format_error()
    {
        using var dir = new TempDirectory();
        var gz = DataFiles.Gzip(DataFiles.IdxImages(10, 8, 8, DataFiles.Bytes(640, 1)));
        File.WriteAllBytes(dir.File("cut.gz"), gz[..(gz.Length / 2)]);
        Assert.Throws<DataFormatException>(() => IdxFile.ReadImages(dir.File("cut.gz")));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_header_claiming_a_billion_images_is_refused_before_allocating(bool gzip)
    {
        using var dir = new TempDirectory();
        var header = DataFiles.Idx(3, new[] { 1_000_000_000, 28, 28 }, DataFiles.Bytes(784, 1));
        File.WriteAllBytes(dir.File("huge"), gzip ? DataFiles.Gzip(header) : header);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<DataFormatException>(() => IdxFile.ReadImages(dir.File("huge")));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Contains("1000000000 x 28 x 28", e.Message);
        Assert.True(allocated < 1 << 20, $"allocated {allocated} bytes before refusing");
    }

    [Fact]
    public void Bytes_after_the_data_make_the_file_foreign()
    {
        using var dir = new TempDirectory();
        var bytes = DataFiles.IdxLabels(new byte[] { 1, 2, 3 }).Concat(new byte[] { 9 }).ToArray();
        File.WriteAllBytes(dir.File("long"), bytes);
        var e = Assert.Throws<DataFormatException>(() => IdxFile.ReadLabels(dir.File("long")));
        Assert.Contains("1 bytes after", e.Message);
    }

    [Fact]
    public void Zero_or_negative_sizes_are_refused()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("zero"), DataFiles.Idx(3, new[] { 0, 28, 28 }, Array.Empty<byte>()));
        File.WriteAllBytes(dir.File("negative"), DataFiles.Idx(3, new[] { 1, -28, 28 }, Array.Empty<byte>()));
        Assert.Contains("must be positive", Assert.Throws<DataFormatException>(() => IdxFile.ReadImages(dir.File("zero"))).Message);
        Assert.Contains("must be positive", Assert.Throws<DataFormatException>(() => IdxFile.ReadImages(dir.File("negative"))).Message);
    }

    [Fact]
    public void Missing_file_is_a_data_format_error_naming_it()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<DataFormatException>(() => IdxFile.ReadLabels(dir.File("nothing-here")));
        Assert.Contains("nothing-here", e.Message);
        Assert.Contains("does not exist", e.Message);
    }
}
