using System.IO.Compression;
using System.Text;
using HetConv.Data;
using HetConv.Files;
using static TorchSharp.torch;

namespace HetConv.Interop;

/// <summary>
/// PyTorch's zip format for a state dict (what <c>torch.save(model.state_dict(), f)</c> writes): <c>archive/data.pkl</c>,
/// a pickle of an OrderedDict of tensors whose storages are the records <c>archive/data/0</c>, <c>1</c>, ... (raw
/// little-endian bytes), and <c>archive/version</c>. Written with one storage per tensor; read with
/// <see cref="RestrictedUnpickler"/>, which accepts an ordered dict of tensors and plain containers and refuses any
/// other object, so that loading never runs code from the file.
/// </summary>
public static class PyTorchZipFile
{
    private const string Root = "archive";

    /// <summary>The largest pickle read: a state dict's is a few hundred bytes per tensor.</summary>
    public const long MaxPickleBytes = 64_000_000;

    public static void Write(string path, IReadOnlyList<(string Name, Tensor Tensor)> tensors)
    {
        AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            using (var pickle = zip.CreateEntry($"{Root}/data.pkl", CompressionLevel.NoCompression).Open())
                StateDictPickle.Write(pickle, tensors.Select((t, i) => (t.Name, t.Tensor.dtype, t.Tensor.shape, i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToList());
            using (var byteOrder = zip.CreateEntry($"{Root}/byteorder", CompressionLevel.NoCompression).Open())
                byteOrder.Write("little"u8);
            for (int i = 0; i < tensors.Count; i++)
            {
                using var record = zip.CreateEntry($"{Root}/data/{i}", CompressionLevel.NoCompression).Open();
                TensorDType.WriteBytes(record, tensors[i].Tensor);
            }
            using (var version = zip.CreateEntry($"{Root}/version", CompressionLevel.NoCompression).Open())
                version.Write("3\n"u8);
        });
    }

    /// <summary>
    /// Reads the state dict; with <paramref name="expected"/>, every name, dtype and shape is checked against it before
    /// any tensor is allocated.
    /// </summary>
    public static Dictionary<string, Tensor> Read(string path, IReadOnlyDictionary<string, (ScalarType DType, long[] Shape)>? expected = null)
    {
        if (!File.Exists(path)) throw new DataFormatException(path, "the file does not exist.");
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(File.OpenRead(path), ZipArchiveMode.Read);
        }
        catch (InvalidDataException e)
        {
            throw new DataFormatException(path, $"is not a PyTorch zip file ({e.Message}); files from torch.save before PyTorch 1.6 must be saved again.", inner: e);
        }
        using (zip)
        {
            var pickleEntry = zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1)
                ?? throw new DataFormatException(path, "holds no data.pkl: it is not a file written by torch.save.");
            string root = pickleEntry.FullName[..pickleEntry.FullName.IndexOf('/')];
            if (zip.GetEntry($"{root}/byteorder") is { } order)
            {
                using var reader = new StreamReader(order.Open(), Encoding.ASCII);
                if (reader.ReadToEnd().Trim() != "little")
                    throw new DataFormatException(path, "holds big-endian tensors, which this reader does not convert.");
            }
            if (pickleEntry.Length > MaxPickleBytes)
                throw new DataFormatException(path, $"its data.pkl is {pickleEntry.Length} bytes, over the {MaxPickleBytes}-byte limit for a state dict.");
            var pickleBytes = new byte[pickleEntry.Length];
            try
            {
                using var pickleStream = pickleEntry.Open();
                pickleStream.ReadExactly(pickleBytes);
            }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                throw new DataFormatException(path, $"its data.pkl cannot be read: {e.Message}", inner: e);
            }
            var specs = StateDictPickle.Read(pickleBytes, path);

            // Every storage record must exist and hold exactly its declared elements, and every view lie inside it.
            foreach (var spec in specs)
            {
                var record = zip.GetEntry($"{root}/data/{spec.StorageKey}")
                    ?? throw new DataFormatException(path, $"tensor '{spec.Name}': its storage record data/{spec.StorageKey} is missing.");
                long storageBytes = checked(spec.StorageElements * TensorDType.Size(spec.DType));
                if (record.Length != storageBytes)
                    throw new DataFormatException(path, $"tensor '{spec.Name}': storage data/{spec.StorageKey} has " +
                        $"{record.Length} bytes; its {spec.StorageElements} {spec.DType} elements take {storageBytes}.");
                if (!spec.FitsInStorage())
                    throw new DataFormatException(path, $"tensor '{spec.Name}': offset {spec.Offset}, " +
                        $"shape [{string.Join(", ", spec.Shape)}] and stride [{string.Join(", ", spec.Stride)}] " +
                        $"reach outside its storage of {spec.StorageElements} elements.");
            }
            if (expected is not null) StateDictFiles.CheckAgainst(path, specs.Select(s => (s.Name, s.DType, s.Shape)).ToList(), expected);

            var result = new Dictionary<string, Tensor>();
            try
            {
                var storages = new Dictionary<string, Tensor>();
                foreach (var spec in specs)
                {
                    if (!storages.TryGetValue(spec.StorageKey, out var storage))
                    {
                        storage = empty(spec.StorageElements, spec.DType);
                        using (var record = zip.GetEntry($"{root}/data/{spec.StorageKey}")!.Open())
                            TensorDType.ReadBytes(record, storage);
                        storages[spec.StorageKey] = storage;
                    }
                    result[spec.Name] = storage.as_strided(spec.Shape, spec.Stride, spec.Offset).clone();
                }
                foreach (var s in storages.Values) s.Dispose();
            }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                foreach (var t in result.Values) t.Dispose();
                throw new DataFormatException(path, $"cannot be read: {e.Message}", inner: e);
            }
            return result;
        }
    }
}
