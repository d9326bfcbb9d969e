namespace HetConv.Data;

/// <summary>The data sets the readers know, with their file formats.</summary>
public enum DataSetKind
{
    /// <summary>Fashion-MNIST (IDX files): 28x28 grey clothes, 10 classes.</summary>
    FashionMnist,

    /// <summary>Any other MNIST-format directory (IDX files, 10 classes), e.g. MNIST itself.</summary>
    Mnist,

    /// <summary>CIFAR-10, binary version.</summary>
    Cifar10,

    /// <summary>CIFAR-100, binary version (fine labels).</summary>
    Cifar100,

    /// <summary>A folder of image files, one sub-folder per class (or train/ and val/ holding them).</summary>
    ImageFolder,
}
