namespace HetConv.Data;

/// <summary>
/// A rectangle of an image in the image's own pixel coordinates: left, top, width, height. Fractional where it
/// maps back from a resized image (evaluation's centre crop).
/// </summary>
public readonly record struct CropBox(double X, double Y, double Width, double Height)
{
    /// <summary>The whole image.</summary>
    public static CropBox All(int width, int height) => new(0, 0, width, height);
}
