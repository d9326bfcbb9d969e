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

    /// <summary>
    /// Means and standard deviations given as comma-separated numbers (e.g. ImageNet's "0.485,0.456,0.406" and
    /// "0.229,0.224,0.225"); null when neither is given.
    /// </summary>
    public static ChannelNormalization? Parse(string? mean, string? std)
    {
        if (mean is null && std is null) return null;
        if (mean is null || std is null) throw new ArgumentException("give both --mean and --std, or neither (to estimate them from the training images).");
        static float[] Numbers(string text, string name) => text.Split(',', StringSplitOptions.TrimEntries).Select(t =>
            float.TryParse(t, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out float v) && float.IsFinite(v) ? v
                : throw new ArgumentException($"{name} '{text}' is not a comma-separated list of numbers.")).ToArray();
        var m = Numbers(mean, "--mean");
        var s = Numbers(std, "--std");
        if (m.Length != s.Length) throw new ArgumentException($"--mean has {m.Length} values and --std {s.Length}; give one of each per channel.");
        if (s.Any(v => !(v > 0))) throw new ArgumentException($"--std '{std}': every standard deviation must be > 0.");
        return new ChannelNormalization(m, s);
    }

    /// <summary>For each channel, the float each byte value 0..255 maps to.</summary>
    public float[][] LookupTables() =>
        Mean.Select((m, ch) => Enumerable.Range(0, 256).Select(v => (float)((v / 255.0 - m) / Std[ch])).ToArray()).ToArray();
}
