using BenchmarkDotNet.Attributes;
using HetConv.Benchmarking;
using HetConv.Layers;
using HetConv.Layers.Execution;
using HetConv.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace HetConv.Benchmarks;

/// <summary>
/// VGG-16-CIFAR layer shapes at P = 4, inference at batch 64: the standard convolution (channels-last, its fastest
/// layout here) against HetConv's strategies. In process: libtorch's natives sit beside this assembly.
/// Run: dotnet run -c Release --project bench/HetConv.Benchmarks -- --filter '*LayerBenchmarks*'
/// </summary>
[InProcess]
[MemoryDiagnoser(false)]
public class LayerBenchmarks
{
    private torch.nn.Module<Tensor, Tensor> standard = null!;
    private HetConv2d hetconv = null!;
    private Tensor input = null!;

    [Params("conv2", "conv4", "conv9")]
    public string Layer { get; set; } = "conv2";

    [Params(4)]
    public int Part { get; set; }

    [Params(64)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        TorchRuntime.Initialize();
        var shape = LayerShape.Vgg16Cifar.Single(s => s.Name == Layer);
        standard = torch.nn.Conv2d(shape.InChannels, shape.OutChannels, 3, padding: 1, bias: false);
        hetconv = new HetConv2d(shape.InChannels, shape.OutChannels, 3, Part);
        hetconv.eval();
        input = randn(Batch, shape.InChannels, shape.Size, shape.Size).ToChannelsLast();
    }

    [Benchmark(Baseline = true)]
    public void Standard() => Run(() => standard.call(input));

    [Benchmark]
    public void TwoBranch() => Run(() => HetConvExecutions.TwoBranch.Forward(hetconv, input));

    [Benchmark]
    public void FusedNhwc() => Run(() => HetConvExecutions.FusedNhwc.Forward(hetconv, input));

    private static void Run(Func<Tensor> forward)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        forward();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        standard.Dispose();
        hetconv.Dispose();
        input.Dispose();
    }
}
