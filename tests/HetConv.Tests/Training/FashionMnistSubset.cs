using HetConv.Data;

namespace HetConv.Tests.Training;

/// <summary>Fashion-MNIST from Debian's dataset-fashion-mnist package, read once for all tests.</summary>
internal static class FashionMnistSubset
{
    private static readonly Lazy<(ImageDataSet Train, ImageDataSet Test)> data = new(() =>
    {
        if (!Directory.Exists(DataSets.DefaultDirectory))
            throw new InvalidOperationException($"these tests need Fashion-MNIST in {DataSets.DefaultDirectory}. {DataSets.InstallHint}");
        return (DataSets.Load(DataSetKind.FashionMnist, DataSets.DefaultDirectory, DataSplit.Train),
                DataSets.Load(DataSetKind.FashionMnist, DataSets.DefaultDirectory, DataSplit.Test));
    });

    public static ImageDataSet Train => data.Value.Train;
    public static ImageDataSet Test => data.Value.Test;
}
