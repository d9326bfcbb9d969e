namespace HetConv.Data;

/// <summary>
/// Training augmentation as in He et al.'s CIFAR recipe: pad each side by <see cref="CropPadding"/> black pixels,
/// crop back to the original size at a random offset, and mirror left-right with probability 1/2.
/// </summary>
public sealed record Augmentation(int CropPadding = 4, bool HorizontalFlip = true)
{
    public static Augmentation Standard { get; } = new();
}
