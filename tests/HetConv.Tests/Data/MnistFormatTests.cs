using HetConv.Data;

namespace HetConv.Tests.Data;

public class MnistFormatTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Loads_both_splits_of_a_directory(bool gzip)
    {
        using var dir = new TempDirectory();
        DataFiles.MnistDirectory(dir, train: 12, test: 5, size: 6, gzip: gzip);

        var train = DataSets.Load(DataSetKind.Mnist, dir.Path, DataSplit.Train);
        var test = DataSets.Load(DataSetKind.Mnist, dir.Path, DataSplit.Test);

        Assert.Equal((12, 1, 6, 6, 10), (train.Count, train.Channels, train.Height, train.Width, train.ClassCount));
        Assert.Equal(5, test.Count);
        Assert.Equal(DataFiles.Bytes(12 * 36, 1), train.Images);
        Assert.Equal(DataFiles.Bytes(5, 4, 10), test.Labels);
    }

    [Fact]
    public void Label_out_of_range_names_the_file_the_index_and_the_value()
    {
        using var dir = new TempDirectory();
        var labels = new byte[] { 0, 9, 10, 3 };
        DataFiles.MnistDirectory(dir, train: 4, test: 2, trainLabels: labels);
        var e = Assert.Throws<DataFormatException>(() => DataSets.Load(DataSetKind.FashionMnist, dir.Path, DataSplit.Train));
        Assert.Contains("train-labels-idx1-ubyte.gz", e.Message);
        Assert.Contains("label 2 is 10", e.Message);
        Assert.Contains("0..9", e.Message);
    }

    [Fact]
    public void Image_and_label_counts_must_match()
    {
        using var dir = new TempDirectory();
        DataFiles.MnistDirectory(dir, train: 4, test: 2);
        File.WriteAllBytes(dir.File("train-labels-idx1-ubyte.gz"), DataFiles.Gzip(DataFiles.IdxLabels(new byte[] { 1, 2, 3 })));
        var e = Assert.Throws<DataFormatException>(() => DataSets.Load(DataSetKind.Mnist, dir.Path, DataSplit.Train));
        Assert.Contains("3 labels", e.Message);
        Assert.Contains("4 images", e.Message);
    }

    [Fact]
    public void Missing_file_names_it_and_both_accepted_forms()
    {
        using var dir = new TempDirectory();
        DataFiles.MnistDirectory(dir, train: 4, test: 2);
        File.Delete(dir.File("t10k-images-idx3-ubyte.gz"));
        var e = Assert.Throws<DataFormatException>(() => DataSets.Load(DataSetKind.Mnist, dir.Path, DataSplit.Test));
        Assert.Contains("t10k-images-idx3-ubyte or t10k-images-idx3-ubyte.gz is missing", e.Message);
        Assert.Contains(dir.Path, e.Message);
    }

    [Fact]
    public void Missing_default_data_set_gives_the_install_command()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<DataFormatException>(() =>
            MnistFormat.Load(Path.Combine(dir.Path, "absent"), DataSplit.Train, "fashion-mnist", DataSets.FashionMnistClasses, DataSets.InstallHint));
        Assert.Contains("directory does not exist", e.Message);
        Assert.Contains("apt-get install -y dataset-fashion-mnist", e.Message);
    }

    [Fact]
    public void Detects_the_format_from_the_files()
    {
        using var dir = new TempDirectory();
        Assert.Equal(DataSetKind.Mnist, DataSets.Detect(dir.Path));
        Assert.Equal(DataSetKind.FashionMnist, DataSets.Detect(DataSets.DefaultDirectory));
        Directory.CreateDirectory(dir.File("cifar-10-batches-bin"));
        File.WriteAllBytes(Path.Combine(dir.File("cifar-10-batches-bin"), "test_batch.bin"), new byte[3073]);
        Assert.Equal(DataSetKind.Cifar10, DataSets.Detect(dir.Path));
    }
}
