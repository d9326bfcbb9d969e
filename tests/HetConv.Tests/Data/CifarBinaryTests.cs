using HetConv.Data;

namespace HetConv.Tests.Data;

public class CifarBinaryTests
{
    [Fact]
    public void Cifar10_reads_five_training_batches_and_the_test_batch()
    {
        using var dir = new TempDirectory();
        for (int b = 1; b <= 5; b++)
            File.WriteAllBytes(dir.File($"data_batch_{b}.bin"), DataFiles.CifarRecords(new[] { new[] { (byte)b }, new[] { (byte)(b + 4) } }, b));
        File.WriteAllBytes(dir.File("test_batch.bin"), DataFiles.CifarRecords(new[] { new byte[] { 9 } }, 99));

        var train = DataSets.Load(DataSetKind.Cifar10, dir.Path, DataSplit.Train);
        var test = DataSets.Load(DataSetKind.Cifar10, dir.Path, DataSplit.Test);

        Assert.Equal((10, 3, 32, 32, 10), (train.Count, train.Channels, train.Height, train.Width, train.ClassCount));
        Assert.Equal(new byte[] { 1, 5, 2, 6, 3, 7, 4, 8, 5, 9 }, train.Labels);
        // The third image is the first record of data_batch_2, pixels after its label byte.
        Assert.Equal(DataFiles.Bytes(2 * 3072, 2)[..3072], train.Images.AsSpan(2 * 3072, 3072).ToArray());
        Assert.Equal(new byte[] { 9 }, test.Labels);
        Assert.Equal("airplane", train.ClassNames[0]);
    }

    [Fact]
    public void Cifar100_uses_the_fine_label()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("train.bin"), DataFiles.CifarRecords(new[] { new byte[] { 3, 77 }, new byte[] { 19, 99 } }, 1));
        var train = DataSets.Load(DataSetKind.Cifar100, dir.Path, DataSplit.Train);
        Assert.Equal(new byte[] { 77, 99 }, train.Labels);
        Assert.Equal(100, train.ClassCount);
    }

    [Fact]
    public void Truncated_file_names_the_record_size()
    {
        using var dir = new TempDirectory();
        var bytes = DataFiles.CifarRecords(new[] { new byte[] { 1 }, new byte[] { 2 } }, 1);
        File.WriteAllBytes(dir.File("test_batch.bin"), bytes[..^10]);
        var e = Assert.Throws<DataFormatException>(() => DataSets.Load(DataSetKind.Cifar10, dir.Path, DataSplit.Test));
        Assert.Contains("test_batch.bin", e.Message);
        Assert.Contains("3073-byte record", e.Message);
        Assert.Contains($"{bytes.Length - 10} bytes", e.Message);
    }

    [Theory]
    [InlineData(1, new byte[] { 10 }, "label 10")]
    [InlineData(2, new byte[] { 3, 100 }, "label 100")]
    [InlineData(2, new byte[] { 20, 5 }, "coarse label 20")]
    public void Label_out_of_range_names_the_record(int labelBytes, byte[] badLabel, string expected)
    {
        using var dir = new TempDirectory();
        var good = labelBytes == 1 ? new byte[] { 1 } : new byte[] { 1, 1 };
        File.WriteAllBytes(dir.File("x.bin"), DataFiles.CifarRecords(new[] { good, badLabel }, 1));
        var e = Assert.Throws<DataFormatException>(() => CifarBinary.ReadFile(dir.File("x.bin"), labelBytes, labelBytes == 1 ? 10 : 100));
        Assert.Contains("record 1", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Missing_batch_file_is_named()
    {
        using var dir = new TempDirectory();
        for (int b = 1; b <= 4; b++)
            File.WriteAllBytes(dir.File($"data_batch_{b}.bin"), DataFiles.CifarRecords(new[] { new byte[] { 1 } }, b));
        var e = Assert.Throws<DataFormatException>(() => DataSets.Load(DataSetKind.Cifar10, dir.Path, DataSplit.Train));
        Assert.Contains("data_batch_5.bin", e.Message);
        Assert.Contains("the CIFAR binary file (1 label byte + 3072 pixel bytes per record) does not exist.", e.Message);
    }
}
