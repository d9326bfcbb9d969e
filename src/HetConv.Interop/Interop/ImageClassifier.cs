using HetConv.Data;
using static TorchSharp.torch;

namespace HetConv.Interop;

/// <summary>One class's score for an image.</summary>
public sealed record ClassScore(string Class, int Index, double Probability);

/// <summary>An image's most probable classes, most probable first.</summary>
public sealed record Prediction(string Image, IReadOnlyList<ClassScore> Top);

/// <summary>
/// A trained model that classifies image files: a checkpoint (run in TorchSharp) or an ONNX file written by
/// <see cref="ModelExport"/> (run in ONNX Runtime), each with the input size, normalisation and class names it was
/// trained with.
/// </summary>
public sealed class ImageClassifier : IDisposable
{
    private readonly nn.Module<Tensor, Tensor>? model;
    private readonly OnnxRunner? onnx;

    private ImageClassifier(nn.Module<Tensor, Tensor>? model, OnnxRunner? onnx, ExportMetadata info)
    {
        this.model = model;
        this.onnx = onnx;
        Info = info;
    }

    public ExportMetadata Info { get; }

    /// <summary>Opens a <c>.onnx</c> file in ONNX Runtime, anything else as a checkpoint.</summary>
    public static ImageClassifier Open(string path)
    {
        if (!File.Exists(path)) throw new DataFormatException(path, "the model file does not exist.");
        if (!Path.GetExtension(path).Equals(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            var (model, state) = CheckpointModels.Load(path);
            return new ImageClassifier(model, null, ExportMetadata.Parse(path, ExportMetadata.Of(state)));
        }
        OnnxRunner runner;
        try
        {
            runner = new OnnxRunner(path);
        }
        catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException e)
        {
            throw new DataFormatException(path, $"ONNX Runtime cannot load it: {e.Message}", inner: e);
        }
        try
        {
            return new ImageClassifier(null, runner, ExportMetadata.Parse(path, runner.Metadata));
        }
        catch
        {
            runner.Dispose();
            throw;
        }
    }

    /// <summary>Class probabilities [N, classes] for image files.</summary>
    public Tensor Probabilities(IReadOnlyList<string> images)
    {
        using var scope = NewDisposeScope();
        var batch = ImageInput.Batch(images, Info.InChannels, Info.Height, Info.Width, Info.Normalization, Info.CentreCrop);
        Tensor logits;
        if (onnx is not null)
        {
            logits = onnx.Run(batch);
        }
        else
        {
            using var noGrad = no_grad();
            logits = model!.call(batch);
        }
        return logits.to(ScalarType.Float64).softmax(1).MoveToOuterDisposeScope();
    }

    /// <summary>The <paramref name="top"/> most probable classes of each image.</summary>
    public IReadOnlyList<Prediction> Predict(IReadOnlyList<string> images, int top = 5)
    {
        if (top < 1) throw new ArgumentException($"--top {top} must be >= 1.");
        using var probabilities = Probabilities(images);
        int k = Math.Min(top, Info.ClassNames.Length);
        var (bestValues, bestIndices) = probabilities.topk(k, dim: 1);
        using var disposeValues = bestValues;
        using var disposeIndices = bestIndices;
        var values = bestValues.data<double>().ToArray();
        var indices = bestIndices.data<long>().ToArray();
        return images.Select((image, i) => new Prediction(image,
            Enumerable.Range(0, k).Select(j => new ClassScore(Info.ClassNames[indices[i * k + j]], (int)indices[i * k + j], values[i * k + j])).ToList())).ToList();
    }

    public void Dispose()
    {
        model?.Dispose();
        onnx?.Dispose();
    }
}
