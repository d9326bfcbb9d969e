using Microsoft.ML.OnnxRuntime;
using static TorchSharp.torch;

namespace HetConv.Interop;

/// <summary>
/// An exported graph in ONNX Runtime (CPU): float32 [batch, C, H, W] in, [batch, classes] out, with the metadata the
/// export wrote.
/// </summary>
public sealed class OnnxRunner : IDisposable
{
    private readonly InferenceSession session;

    /// <param name="threads">ONNX Runtime's intra-op threads; 0 lets it choose (one per core).</param>
    public OnnxRunner(string path, int threads = 0)
    {
        var options = new SessionOptions { IntraOpNumThreads = threads, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        session = new InferenceSession(path, options);
        var input = session.InputMetadata[OnnxExport.InputName];
        InputShape = input.Dimensions.Skip(1).Select(d => (long)d).ToArray();
    }

    /// <summary>[C, H, W] the graph takes.</summary>
    public long[] InputShape { get; }

    public IReadOnlyDictionary<string, string> Metadata => session.ModelMetadata.CustomMetadataMap;

    /// <summary>Logits for a float32 batch [N, C, H, W] (a CPU tensor), as a new tensor [N, classes].</summary>
    public Tensor Run(Tensor batch)
    {
        using var cpu = batch.detach().cpu().to(ScalarType.Float32).contiguous();
        float[] data = cpu.data<float>().ToArray();
        using var input = OrtValue.CreateTensorValueFromMemory(data, cpu.shape);
        using var runOptions = new RunOptions();
        using var outputs = session.Run(runOptions, new[] { OnnxExport.InputName }, new[] { input }, new[] { OnnxExport.OutputName });
        var shape = outputs[0].GetTensorTypeAndShape().Shape;
        return tensor(outputs[0].GetTensorDataAsSpan<float>().ToArray(), shape);
    }

    public void Dispose() => session.Dispose();
}
