using HetConv.Interop;
using HetConv.Layers;
using HetConv.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace HetConv.Tests.Interop;

public class OnnxExportTests
{
    public static IEnumerable<object[]> Cases() =>
        ExportCases.ModelsAndKinds().SelectMany(c => new[]
        {
            new[] { c[0], c[1], OnnxHetConvForm.Grouped },
            new[] { c[0], c[1], OnnxHetConvForm.Dense },
        });

    /// <summary>Every zoo model in every kind, in both forms, runs in ONNX Runtime, in-process beside libtorch, as it does in TorchSharp.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void The_graph_runs_in_onnx_runtime_and_matches_torchsharp(string name, string kind, OnnxHetConvForm form)
    {
        using var dir = new TempDirectory();
        using var model = ExportCases.Create(name, kind);
        var shape = ExportCases.InputShape(name);
        string path = dir.File("model.onnx");
        OnnxExport.Save(model, path, shape, form);

        using var runner = new OnnxRunner(path, threads: 1);
        Assert.Equal(shape, runner.InputShape);
        foreach (long batch in new long[] { 1, 3 })   // the batch dimension is dynamic
        {
            torch.random.manual_seed(batch);
            using var x = randn(new[] { batch }.Concat(shape).ToArray());
            using var noGrad = no_grad();
            using var expected = model.call(x);
            using var actual = runner.Run(x);
            Assert.True(expected.abs().max().item<float>() > 0, "all-zero logits would prove nothing");
            // Within 1e-4 of the logits' scale: random BatchNorm statistics make deep networks' logits large, and ONNX
            // Runtime sums in another order than libtorch.
            TensorAssert.Close(actual, expected, rtol: 1e-4, what: $"{name} {kind} {form} batch {batch}", scaleFraction: 1);
        }
    }

    [Theory]
    [InlineData(OnnxHetConvForm.Grouped)]
    [InlineData(OnnxHetConvForm.Dense)]
    public void The_forms_use_the_operators_they_promise(OnnxHetConvForm form)
    {
        using var model = ExportCases.Create("resnet20", "P4");
        var graph = OnnxExport.Build(model, new long[] { 3, 16, 16 }, form).Graph;
        int hetLayers = model.modules().OfType<HetConv2d>().Count();
        long Groups(Onnx.NodeProto node) => node.Attribute.FirstOrDefault(a => a.Name == "group")?.I ?? 1;
        var convs = graph.Node.Where(n => n.OpType == "Conv").ToList();
        Assert.DoesNotContain(graph.Node, n => n.OpType == "BatchNormalization");
        if (form == OnnxHetConvForm.Grouped)
        {
            Assert.Equal(hetLayers, convs.Count(c => Groups(c) == 4));
            Assert.Equal(1 + 2 * hetLayers, convs.Count);                 // stem, then a grouped KxK and a 1x1 per layer
            Assert.Equal(2 * hetLayers, graph.Node.Count(n => n.OpType == "Gather"));   // shifted: inputs and outputs reordered
        }
        else
        {
            Assert.Equal(1 + hetLayers, convs.Count);
            Assert.All(convs, c => Assert.Equal(1, Groups(c)));
            Assert.DoesNotContain(graph.Node, n => n.OpType == "Gather");
        }
    }

    [Fact]
    public void Metadata_written_at_export_is_read_back()
    {
        using var dir = new TempDirectory();
        using var model = ExportCases.Create("resnet20", "P4");
        string path = dir.File("m.onnx");
        OnnxExport.Save(model, path, new long[] { 3, 16, 16 }, metadata: new Dictionary<string, string> { ["hetconv.classes"] = "[\"a\",\"b\"]" });
        using var runner = new OnnxRunner(path);
        Assert.Equal("[\"a\",\"b\"]", runner.Metadata["hetconv.classes"]);
    }

    [PythonTheory]
    [InlineData("resnet20", "P4", OnnxHetConvForm.Grouped)]
    [InlineData("resnet20", "P4-blocked", OnnxHetConvForm.Dense)]
    [InlineData("mobilenet-cifar", "P4_SE", OnnxHetConvForm.Grouped)]
    [InlineData("vgg16-cifar", "DWC_PWC", OnnxHetConvForm.Grouped)]
    public void The_onnx_checker_accepts_the_graph(string name, string kind, OnnxHetConvForm form)
    {
        using var dir = new TempDirectory();
        using var model = ExportCases.Create(name, kind);
        string path = dir.File("m.onnx");
        OnnxExport.Save(model, path, ExportCases.InputShape(name), form);
        string output = PythonClient.Check("""
            import sys, onnx
            m = onnx.load(sys.argv[1])
            onnx.checker.check_model(m, full_check=True)
            print(m.opset_import[0].version, m.ir_version)
            """, path);
        Assert.Equal("17 8", output.Trim());
    }
}
