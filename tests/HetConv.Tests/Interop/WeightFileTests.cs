using System.IO.Compression;
using System.Text;
using HetConv.Conversion;
using HetConv.Data;
using HetConv.Interop;
using HetConv.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace HetConv.Tests.Interop;

public class WeightFileTests
{
    [Theory]
    [InlineData("model.safetensors", "P4")]
    [InlineData("model.pt", "P4")]
    [InlineData("model.safetensors", "P4-blocked")]
    [InlineData("model.pt", "PC")]
    public void A_state_dict_round_trips_bit_for_bit(string file, string kind)
    {
        using var dir = new TempDirectory();
        using var source = ExportCases.Create("resnet20", kind, seed: 3);
        using var target = ExportCases.Create("resnet20", kind, seed: 4);
        using (no_grad())
            foreach (var bn in source.modules().OfType<TorchSharp.Modules.BatchNorm2d>()) bn.num_batches_tracked!.fill_(17);

        Assert.False(source.state_dict()["fc.weight"].eq(target.state_dict()["fc.weight"]).all().item<bool>(), "the two models start equal: the round trip would prove nothing");
        StateDictFiles.Save(source, dir.File(file));
        StateDictFiles.Load(target, dir.File(file));

        AssertSameStateDict(source, target);
        Assert.Contains(source.state_dict().Keys, k => k.EndsWith("kxk_weight", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("model.safetensors")]
    [InlineData("model.pt")]
    public void A_dense_export_loads_into_the_dense_folded_model(string file)
    {
        using var dir = new TempDirectory();
        using var source = ExportCases.Create("resnet20", "P4", seed: 3);
        StateDictFiles.Save(source, dir.File(file), WeightLayout.Dense);

        using var target = ExportCases.Create("resnet20", "standard", seed: 5);
        StateDictFiles.Load(target, dir.File(file));

        Assert.Equal(new long[] { 16, 16, 3, 3 }, source.modules().OfType<HetConv2d>().First().DenseWeight().shape);
        DenseFolding.Fold(source);
        AssertSameStateDict(source, target);
    }

    [Fact]
    public void A_dense_vgg16_export_gives_its_convolutions_zero_biases_as_torchvision_has()
    {
        using var dir = new TempDirectory();
        using var model = HetConv.Models.ModelZoo.Create("vgg16", HetConv.Models.ConvOptions.HetConv(4), numClasses: 10);
        var tensors = StateDictFiles.Export(model, WeightLayout.Dense, "vgg16");
        var names = tensors.Select(t => t.Name).ToList();
        Assert.Contains("features.0.bias", names);
        Assert.Contains("features.3.weight", names);
        Assert.Contains("features.3.bias", names);
        Assert.DoesNotContain(names, n => n.Contains("kxk_weight", StringComparison.Ordinal));
        Assert.Equal(13, names.Count(n => n.StartsWith("features.", StringComparison.Ordinal) && n.EndsWith(".bias", StringComparison.Ordinal)
                                           && tensors.First(t => t.Name == n).Tensor.dim() == 1 && tensors.First(t => t.Name == n).Tensor.abs().sum().item<float>() == 0
                                           && names.Contains(n.Replace(".bias", ".running_mean")) is false));
    }

    private static void AssertSameStateDict(nn.Module expected, nn.Module actual)
    {
        var a = actual.state_dict();
        var e = expected.state_dict();
        Assert.Equal(e.Keys.OrderBy(k => k), a.Keys.OrderBy(k => k));
        foreach (var (key, tensor) in e)
        {
            Assert.Equal(tensor.dtype, a[key].dtype);
            Assert.True(tensor.cpu().contiguous().bytes.SequenceEqual(a[key].cpu().contiguous().bytes), $"{key} differs");
        }
    }

    // ---- malformed safetensors: each gets an error naming the file and the tensor ----

    private static string Safetensors(TempDirectory dir, string header, int dataBytes, long? declaredLength = null)
    {
        string path = dir.File("bad.safetensors");
        var json = Encoding.UTF8.GetBytes(header);
        using var stream = File.Create(path);
        stream.Write(BitConverter.GetBytes(declaredLength ?? json.Length));
        stream.Write(json);
        stream.Write(new byte[dataBytes]);
        return path;
    }

    private static DataFormatException ReadFails(string path)
    {
        var e = Assert.Throws<DataFormatException>(() => SafeTensorsFile.Read(path));
        Assert.Contains(path, e.Message);
        return e;
    }

    [Fact]
    public void Safetensors_header_larger_than_the_file()
    {
        using var dir = new TempDirectory();
        var e = ReadFails(Safetensors(dir, "{}", 0, declaredLength: 5000));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void Safetensors_header_over_the_cap_is_refused_before_reading_it()
    {
        using var dir = new TempDirectory();
        var e = ReadFails(Safetensors(dir, "{}", 0, declaredLength: long.MaxValue / 2));
        Assert.Contains("limit", e.Message);
    }

    [Fact]
    public void Safetensors_truncated_data()
    {
        using var dir = new TempDirectory();
        var e = ReadFails(Safetensors(dir, """{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}""", 20));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("outside", e.Message);
    }

    [Fact]
    public void Safetensors_overlapping_offsets()
    {
        using var dir = new TempDirectory();
        var e = ReadFails(Safetensors(dir,
            """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"b":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}}""", 24));
        Assert.Contains("'b'", e.Message);
        Assert.Contains("overlap", e.Message);
    }

    [Fact]
    public void Safetensors_offsets_that_do_not_match_the_shape()
    {
        using var dir = new TempDirectory();
        // A shape of 10^15 elements is refused on its offsets, with nothing allocated for it.
        var e = ReadFails(Safetensors(dir, """{"huge":{"dtype":"F32","shape":[1000000,1000000,1000],"data_offsets":[0,16]}}""", 16));
        Assert.Contains("'huge'", e.Message);
    }

    [Fact]
    public void Safetensors_unknown_dtype()
    {
        using var dir = new TempDirectory();
        var e = ReadFails(Safetensors(dir, """{"w":{"dtype":"F8_E9","shape":[4],"data_offsets":[0,4]}}""", 4));
        Assert.Contains("'w'", e.Message);
        Assert.Contains("unknown dtype 'F8_E9'", e.Message);
    }

    [Fact]
    public void Safetensors_shape_not_matching_the_module()
    {
        using var dir = new TempDirectory();
        using var model = ExportCases.Create("resnet20", "P4");
        string path = dir.File("w.safetensors");
        var tensors = StateDictFiles.Export(model, WeightLayout.Compact);
        int i = tensors.FindIndex(t => t.Name == "layer2.0.conv1.kxk_weight");
        tensors[i] = (tensors[i].Name, zeros(32, 8, 3, 3));
        SafeTensorsFile.Write(path, tensors);
        var e = Assert.Throws<DataFormatException>(() => StateDictFiles.Load(model, path));
        Assert.Contains(path, e.Message);
        Assert.Contains("'layer2.0.conv1.kxk_weight'", e.Message);
        Assert.Contains("[32, 8, 3, 3]", e.Message);
    }

    [Fact]
    public void Safetensors_tensor_missing_for_the_module()
    {
        using var dir = new TempDirectory();
        using var model = ExportCases.Create("resnet20", "P4");
        string path = dir.File("w.safetensors");
        SafeTensorsFile.Write(path, StateDictFiles.Export(model, WeightLayout.Compact).Where(t => t.Name != "fc.bias").ToList());
        var e = Assert.Throws<DataFormatException>(() => StateDictFiles.Load(model, path));
        Assert.Contains("'fc.bias' is missing", e.Message);
    }

    // ---- .pt: only a state dict of tensors is accepted ----

    private static string PtFile(TempDirectory dir, byte[] pickle, params (string Name, byte[] Data)[] records)
    {
        string path = dir.File("bad.pt");
        File.Delete(path);
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        using (var s = zip.CreateEntry("archive/data.pkl").Open()) s.Write(pickle);
        foreach (var (name, data) in records)
            using (var s = zip.CreateEntry($"archive/data/{name}").Open()) s.Write(data);
        using (var s = zip.CreateEntry("archive/version").Open()) s.Write("3\n"u8);
        return path;
    }

    [Fact]
    public void Pt_with_a_global_outside_the_allow_list_is_refused()
    {
        using var dir = new TempDirectory();
        // os.system('echo owned'): what a malicious pickle calls.
        var pickle = new byte[] { 0x80, 0x02 }.Concat(Encoding.ASCII.GetBytes("cos\nsystem\n"))
            .Concat(new byte[] { (byte)'X', 10, 0, 0, 0 }).Concat(Encoding.ASCII.GetBytes("echo owned"))
            .Concat(new byte[] { 0x85, (byte)'R', (byte)'.' }).ToArray();
        string path = PtFile(dir, pickle);
        var e = Assert.Throws<DataFormatException>(() => PyTorchZipFile.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("'os.system'", e.Message);
        Assert.Contains("refused", e.Message);
    }

    [Fact]
    public void Pt_with_object_construction_is_refused()
    {
        using var dir = new TempDirectory();
        // NEWOBJ (0x81) builds an arbitrary class instance: not in a state dict.
        var pickle = new byte[] { 0x80, 0x02, (byte)'}', (byte)')', 0x81, (byte)'.' };
        var e = Assert.Throws<DataFormatException>(() => PyTorchZipFile.Read(PtFile(dir, pickle)));
        Assert.Contains("opcode 0x81", e.Message);
    }

    [Fact]
    public void Pt_with_a_short_storage_record_names_the_tensor()
    {
        using var dir = new TempDirectory();
        string good = dir.File("good.pt");
        PyTorchZipFile.Write(good, new List<(string, Tensor)> { ("layer.weight", ones(2, 3)) });
        byte[] pickle;
        using (var zip = ZipFile.OpenRead(good))
        using (var s = zip.GetEntry("archive/data.pkl")!.Open())
        using (var m = new MemoryStream())
        {
            s.CopyTo(m);
            pickle = m.ToArray();
        }
        string path = PtFile(dir, pickle, ("0", new byte[20]));
        var e = Assert.Throws<DataFormatException>(() => PyTorchZipFile.Read(path));
        Assert.Contains("'layer.weight'", e.Message);
        Assert.Contains("20 bytes", e.Message);

        var truncated = Assert.Throws<DataFormatException>(() => PyTorchZipFile.Read(PtFile(dir, pickle[..(pickle.Length / 2)], ("0", new byte[24]))));
        Assert.Contains("truncated", truncated.Message);
    }

    [Fact]
    public void Pt_that_is_not_a_zip_file()
    {
        using var dir = new TempDirectory();
        string path = dir.File("model.pt");
        File.WriteAllBytes(path, new byte[] { 0x80, 0x02, (byte)'.', 1, 2, 3 });
        var e = Assert.Throws<DataFormatException>(() => StateDictFiles.Load(nn.Linear(2, 2), path));
        Assert.Contains(path, e.Message);
        Assert.Contains("not a PyTorch zip file", e.Message);
    }

    [Fact]
    public void Pt_shape_not_matching_the_module()
    {
        using var dir = new TempDirectory();
        string path = dir.File("w.pt");
        PyTorchZipFile.Write(path, new List<(string, Tensor)> { ("weight", ones(3, 2)), ("bias", ones(3)) });
        var e = Assert.Throws<DataFormatException>(() => StateDictFiles.Load(nn.Linear(2, 4), path));
        Assert.Contains("'weight' has shape [3, 2]", e.Message);
    }
}
