using System.Globalization;
using System.Text.Json;
using HetConv.Interop;
using HetConv.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace HetConv.Tests.Interop;

/// <summary>PyTorch itself reads the exported weight files: with weights_only, and strictly into TorchVision's models.</summary>
public class PyTorchClientTests
{
    /// <summary>Reads a safetensors file with nothing but the format's definition, independently of our reader.</summary>
    private const string ReadSafetensors = """
        import json, struct, torch
        DTYPES = {'F32': torch.float32, 'F64': torch.float64, 'I64': torch.int64, 'I32': torch.int32, 'U8': torch.uint8, 'BOOL': torch.bool}
        def read_safetensors(path):
            with open(path, 'rb') as f:
                n = struct.unpack('<Q', f.read(8))[0]
                header = json.loads(f.read(n))
                data = f.read()
            out = {}
            for k, v in header.items():
                if k == '__metadata__':
                    continue
                b, e = v['data_offsets']
                flat = torch.frombuffer(bytearray(data[b:e]), dtype=DTYPES[v['dtype']]) if e > b else torch.zeros(0, dtype=DTYPES[v['dtype']])
                out[k] = flat.reshape(v['shape'])
            return out

        """;

    [PythonFact]
    public void Torch_loads_the_pt_export_with_weights_only_and_it_equals_the_safetensors_export()
    {
        using var dir = new TempDirectory();
        using var model = ExportCases.Create("resnet20", "P4");
        StateDictFiles.Save(model, dir.File("w.pt"));
        StateDictFiles.Save(model, dir.File("w.safetensors"));

        string output = PythonClient.Check(ReadSafetensors + """
            import sys
            sd = torch.load(sys.argv[1], weights_only=True)
            st = read_safetensors(sys.argv[2])
            assert list(sd.keys()) == list(st.keys()), (list(sd.keys())[:5], list(st.keys())[:5])
            for k in sd:
                assert sd[k].dtype == st[k].dtype and torch.equal(sd[k], st[k]), k
            print(json.dumps({k: [list(v.shape), float(v.double().sum())] for k, v in sd.items()}))
            """, dir.File("w.pt"), dir.File("w.safetensors"));

        var seen = JsonSerializer.Deserialize<Dictionary<string, JsonElement[]>>(output.Trim().Split('\n').Last())!;
        var own = model.state_dict();
        Assert.Equal(own.Keys.OrderBy(k => k), seen.Keys.OrderBy(k => k));
        foreach (var (key, tensor) in own)
        {
            Assert.Equal(tensor.shape, seen[key][0].EnumerateArray().Select(d => d.GetInt64()).ToArray());
            double sum = tensor.to(ScalarType.Float64).sum().item<double>();
            Assert.True(Math.Abs(sum - seen[key][1].GetDouble()) <= 1e-9 * (1 + Math.Abs(sum)), $"{key}: {sum} here, {seen[key][1]} in PyTorch");
        }
    }

    [PythonFact]
    public void A_state_dict_saved_by_torch_is_read_and_anything_else_in_its_pickle_refused()
    {
        using var dir = new TempDirectory();
        string output = PythonClient.Check("""
            import sys, json, collections, torch
            torch.manual_seed(0)
            model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Linear(5, 2))
            sd = model.state_dict()   # an OrderedDict with _metadata, as PyTorch writes it
            sd['2.weight'] = sd['2.weight'].t().contiguous().t()   # a transposed view: strides other than row-major
            torch.save(sd, sys.argv[1])
            torch.save({'w': torch.ones(2), 'counter': collections.Counter('ab')}, sys.argv[2])
            print(json.dumps({k: [list(v.shape), float(v.double().sum()), float((v.double().flatten() * torch.arange(v.numel())).sum())] for k, v in sd.items()}))
            """, dir.File("torch.pt"), dir.File("evil.pt"));
        var expected = JsonSerializer.Deserialize<Dictionary<string, JsonElement[]>>(output.Trim().Split('\n').Last())!;

        var read = PyTorchZipFile.Read(dir.File("torch.pt"));
        Assert.Equal(expected.Keys.OrderBy(k => k), read.Keys.OrderBy(k => k));
        foreach (var (key, tensor) in read)
        {
            Assert.Equal(expected[key][0].EnumerateArray().Select(d => d.GetInt64()).ToArray(), tensor.shape);
            var flat = tensor.to(ScalarType.Float64).flatten();
            double sum = flat.sum().item<double>(), weighted = (flat * arange(flat.numel(), dtype: ScalarType.Float64)).sum().item<double>();
            Assert.True(Math.Abs(sum - expected[key][1].GetDouble()) <= 1e-9 * (1 + Math.Abs(sum)), $"{key}: sum {sum}");
            Assert.True(Math.Abs(weighted - expected[key][2].GetDouble()) <= 1e-9 * (1 + Math.Abs(weighted)), $"{key}: element order differs");
        }

        var e = Assert.Throws<HetConv.Data.DataFormatException>(() => PyTorchZipFile.Read(dir.File("evil.pt")));
        Assert.Contains("'collections.Counter'", e.Message);
    }

    [PythonTheory]
    [InlineData("resnet34", "resnet34")]
    [InlineData("resnet50", "resnet50")]
    [InlineData("vgg16", "vgg16_bn")]
    public void A_dense_export_loads_strictly_into_torchvision_and_gives_the_same_logits(string name, string torchVisionName)
    {
        using var dir = new TempDirectory();
        using var model = ExportCases.Create(name, "P4", classes: 10);
        torch.random.manual_seed(8);
        using var x = randn(2, 3, 32, 32);
        using var noGrad = no_grad();
        using var logits = model.call(x);
        StateDictFiles.Save(model, dir.File("w.pt"), WeightLayout.Dense, zooName: name);
        SafeTensorsFile.Write(dir.File("io.safetensors"), new List<(string, Tensor)> { ("input", x), ("logits", logits) });

        string output = PythonClient.Check(ReadSafetensors + """
            import sys, torchvision
            torch.set_num_threads(1)
            model = getattr(torchvision.models, sys.argv[1])(weights=None, num_classes=10)
            model.load_state_dict(torch.load(sys.argv[2], weights_only=True), strict=True)
            model.eval()
            io = read_safetensors(sys.argv[3])
            with torch.no_grad():
                out = model(io['input'])
            print(json.dumps({'max_diff': float((out - io['logits']).abs().max()), 'max_logit': float(io['logits'].abs().max())}))
            """, torchVisionName, dir.File("w.pt"), dir.File("io.safetensors"));

        var result = JsonSerializer.Deserialize<Dictionary<string, double>>(output.Trim().Split('\n').Last())!;
        double diff = result["max_diff"], scale = result["max_logit"];
        Assert.True(scale > 0, "the logits are all zero: the comparison would prove nothing");
        Assert.True(diff <= 1e-4 * Math.Max(1, scale),
            string.Create(CultureInfo.InvariantCulture, $"{torchVisionName}: TorchVision's logits differ by {diff} (max |logit| {scale})"));
    }
}
