namespace HetConv.Data;

/// <summary>
/// Per-channel normalisation x -> (x/255 - mean) / std, with the mean and standard deviation of the training
/// split (so each data set gets its own). Kept with a model's checkpoint so evaluation normalises the same way.
/// </summary>
public sealed record ChannelNormalization(float[] Mean, float[] Std)
{
    /// <summary>Mean and standard deviation per channel of the images, in [0, 1] units.</summary>
    public static ChannelNormalization Of(ImageDataSet data)
    {
        int c = data.Channels, plane = data.Height * data.Width;
        var sum = new double[c];
        var sumSquares = new double[c];
        for (int i = 0; i < data.Count; i++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                long s = 0, ss = 0;
                foreach (byte b in data.Images.AsSpan(i * data.ImageSize + ch * plane, plane))
                {
                    s += b;
                    ss += b * b;
                }
                sum[ch] += s;
                sumSquares[ch] += ss;
            }
        }
        double n = (double)data.Count * plane;
        var mean = new float[c];
        var std = new float[c];
        for (int ch = 0; ch < c; ch++)
        {
            double m = sum[ch] / n / 255, variance = sumSquares[ch] / n / (255.0 * 255) - m * m;
            mean[ch] = (float)m;
            std[ch] = (float)Math.Sqrt(Math.Max(variance, 1e-12));
        }
        return new ChannelNormalization(mean, std);
    }

    /// <summary>For each channel, the float each byte value 0..255 maps to.</summary>
    internal float[][] LookupTables() =>
        Mean.Select((m, ch) => Enumerable.Range(0, 256).Select(v => (float)((v / 255.0 - m) / Std[ch])).ToArray()).ToArray();
}
