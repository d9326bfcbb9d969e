using System.Diagnostics;
using HetConv.Data;
using static TorchSharp.torch;

namespace HetConv.Training;

/// <summary>Runs a classifier over a data set in eval mode: loss, accuracy, confusion matrix, time.</summary>
public static class Evaluation
{
    public static EvaluationResult Run(nn.Module<Tensor, Tensor> model, IBatchLoader loader, Device device, int classes)
    {
        model.eval();
        using var noGrad = no_grad();
        var confusion = new long[classes, classes];
        double lossSum = 0;
        long correct = 0, seen = 0;
        var clock = new Stopwatch();
        foreach (var (inputs, labels) in loader.Batches())
        {
            using var scope = NewDisposeScope();
            clock.Start();
            var logits = model.call(inputs.to(device));
            clock.Stop();
            var target = labels.to(device);
            lossSum += nn.functional.cross_entropy(logits, target, reduction: nn.Reduction.Sum).item<float>();
            var predicted = logits.argmax(1).cpu().data<long>().ToArray();
            var truth = labels.data<long>().ToArray();
            seen += truth.Length;
            for (int i = 0; i < truth.Length; i++)
            {
                if (predicted[i] >= classes)
                    throw new InvalidOperationException($"the model predicts class {predicted[i]}, but the data has {classes} classes.");
                confusion[truth[i], predicted[i]]++;
                if (truth[i] == predicted[i]) correct++;
            }
        }
        // Counted, not the loader's Count: a source that skips unreadable images yields fewer.
        return new EvaluationResult(lossSum / seen, (double)correct / seen, confusion, (int)seen, clock.Elapsed.TotalSeconds);
    }
}
