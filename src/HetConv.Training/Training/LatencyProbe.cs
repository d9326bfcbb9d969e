using System.Diagnostics;
using HetConv.Data;
using static TorchSharp.torch;

namespace HetConv.Training;

/// <summary>A model's latency for one image at a time, as a deployed classifier answering single requests sees it.</summary>
public static class LatencyProbe
{
    private const int WarmUp = 5, Timed = 100;

    /// <summary>Mean forward time of one image at batch 1, over up to 100 images after a short warm-up.</summary>
    public static double SecondsPerImage(nn.Module<Tensor, Tensor> model, IImageSource images, ChannelNormalization normalization, Device device)
    {
        var sample = images.Take(Math.Min(images.Count, WarmUp + Timed));
        using var loader = sample.Loader(1, normalization, augment: false);
        model.eval();
        using var noGrad = no_grad();
        var clock = new Stopwatch();
        int index = 0, timed = 0;
        foreach (var (inputs, _) in loader.Batches())
        {
            using var scope = NewDisposeScope();
            var x = inputs.to(device);
            // With fewer images than the warm-up, all but the last warm up and the last is timed.
            bool warmingUp = index++ < Math.Min(WarmUp, sample.Count - 1);
            if (!warmingUp) clock.Start();
            model.call(x);
            if (warmingUp) continue;
            clock.Stop();
            timed++;
        }
        return clock.Elapsed.TotalSeconds / Math.Max(timed, 1);
    }
}
