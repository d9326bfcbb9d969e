namespace HetConv.Data;

/// <summary>
/// The crops of TorchVision's ImageNet recipe, as boxes in the decoded image's coordinates: training's
/// RandomResizedCrop (Szegedy et al.'s Inception crops) and evaluation's resize-then-centre-crop.
/// </summary>
public static class ImageCrops
{
    public const double MinScale = 0.08, MaxScale = 1.0, MinRatio = 3.0 / 4, MaxRatio = 4.0 / 3;

    /// <summary>Evaluation resizes the shorter side to size / 0.875 (256 for 224) before the centre crop.</summary>
    public const double CentreFraction = 0.875;

    /// <summary>
    /// TorchVision's <c>RandomResizedCrop.get_params</c>: up to ten tries of an area fraction uniform in
    /// [<paramref name="minScale"/>, <paramref name="maxScale"/>] and a log-uniform aspect ratio in
    /// [<paramref name="minRatio"/>, <paramref name="maxRatio"/>] until the box fits; otherwise the largest centred
    /// box whose ratio is within the range. Rounding halves to even as Python does.
    /// </summary>
    public static CropBox RandomResized(int width, int height, SeededRandom random,
        double minScale = MinScale, double maxScale = MaxScale, double minRatio = MinRatio, double maxRatio = MaxRatio)
    {
        double area = (double)width * height;
        double logMin = Math.Log(minRatio), logMax = Math.Log(maxRatio);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double targetArea = area * random.Uniform(minScale, maxScale);
            double ratio = Math.Exp(random.Uniform(logMin, logMax));
            int w = (int)Math.Round(Math.Sqrt(targetArea * ratio));
            int h = (int)Math.Round(Math.Sqrt(targetArea / ratio));
            if (w > 0 && w <= width && h > 0 && h <= height)
            {
                int top = random.Next(height - h + 1);
                int left = random.Next(width - w + 1);
                return new CropBox(left, top, w, h);
            }
        }
        double inRatio = (double)width / height;
        int cw = width, ch = height;
        if (inRatio < minRatio)
            ch = (int)Math.Round(cw / minRatio);
        else if (inRatio > maxRatio)
            cw = (int)Math.Round(ch * maxRatio);
        return new CropBox((width - cw) / 2, (height - ch) / 2, cw, ch);
    }

    /// <summary>
    /// TorchVision's <c>Resize(round(size / 0.875))</c> then <c>CenterCrop(size)</c>, as the box of the original
    /// image that ends up in the size x size output.
    /// </summary>
    public static CropBox Centre(int width, int height, int size)
    {
        int shorter = (int)Math.Round(size / CentreFraction);
        // Resize keeps the ratio and truncates the longer side, as TorchVision does.
        int resizedWidth = width <= height ? shorter : (int)((long)shorter * width / height);
        int resizedHeight = width <= height ? (int)((long)shorter * height / width) : shorter;
        int top = (int)Math.Round((resizedHeight - size) / 2.0), left = (int)Math.Round((resizedWidth - size) / 2.0);
        double sx = (double)width / resizedWidth, sy = (double)height / resizedHeight;
        return new CropBox(left * sx, top * sy, size * sx, size * sy);
    }
}
