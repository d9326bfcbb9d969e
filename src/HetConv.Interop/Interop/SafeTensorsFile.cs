using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using HetConv.Data;
using HetConv.Files;
using static TorchSharp.torch;

namespace HetConv.Interop;

/// <summary>One tensor's entry in a safetensors header: its dtype, shape and byte range in the data section.</summary>
public sealed record SafeTensorsEntry(string Name, ScalarType DType, long[] Shape, long Begin, long End);

/// <summary>
/// The safetensors format (8-byte little-endian header length, a JSON header, then the tensors' raw little-endian
/// bytes), read strictly: the header is capped at <see cref="MaxHeaderBytes"/> and must fit in the file, every dtype
/// must be known, every byte range must lie in the data section, match its shape and not overlap another, and the
/// ranges must cover the data section exactly. Each problem is reported with the file and the tensor, before any
/// tensor is allocated. Nothing in the file is executed.
/// </summary>
public static class SafeTensorsFile
{
    /// <summary>The largest header read (the reference implementation's limit too).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";

    /// <summary>Writes the tensors in the order given, with string metadata, atomically.</summary>
    public static void Write(string path, IReadOnlyList<(string Name, Tensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (name, tensor) in tensors)
            {
                long bytes = tensor.numel() * TensorDType.Size(tensor.dtype);
                json.WriteStartObject(name);
                json.WriteString("dtype", TensorDType.SafeTensorsName(tensor.dtype));
                json.WriteStartArray("shape");
                foreach (long d in tensor.shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        // Padded with spaces to a multiple of 8 bytes, so that the data section starts aligned.
        while (header.Length % 8 != 0) header.WriteByte((byte)' ');

        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            header.Position = 0;
            header.CopyTo(stream);
            foreach (var (_, tensor) in tensors) TensorDType.WriteBytes(stream, tensor);
        });
    }

    /// <summary>The validated header: the entries in file order and the metadata.</summary>
    public static (IReadOnlyList<SafeTensorsEntry> Entries, IReadOnlyDictionary<string, string> Metadata) ReadHeader(string path)
    {
        using var stream = Open(path);
        return ReadHeader(stream, path).Header;
    }

    /// <summary>
    /// Reads every tensor whose header entry matches <paramref name="expected"/> (name to dtype and shape; null takes the
    /// file as it is). A name missing from the file or not expected, a dtype or shape that differs, is an error naming it.
    /// </summary>
    public static Dictionary<string, Tensor> Read(string path, IReadOnlyDictionary<string, (ScalarType DType, long[] Shape)>? expected = null)
    {
        using var stream = Open(path);
        var ((entries, _), dataStart) = ReadHeader(stream, path);
        if (expected is not null) StateDictFiles.CheckAgainst(path, entries.Select(e => (e.Name, e.DType, e.Shape)).ToList(), expected);
        var result = new Dictionary<string, Tensor>();
        try
        {
            foreach (var entry in entries)
            {
                var tensor = empty(entry.Shape, entry.DType);
                result[entry.Name] = tensor;
                stream.Position = dataStart + entry.Begin;
                TensorDType.ReadBytes(stream, tensor);
            }
        }
        catch (Exception e) when (e is IOException)
        {
            foreach (var t in result.Values) t.Dispose();
            throw new DataFormatException(path, $"cannot be read: {e.Message}", inner: e);
        }
        return result;
    }

    private static FileStream Open(string path)
    {
        if (!File.Exists(path)) throw new DataFormatException(path, "the file does not exist.");
        return File.OpenRead(path);
    }

    private static ((IReadOnlyList<SafeTensorsEntry>, IReadOnlyDictionary<string, string>) Header, long DataStart) ReadHeader(FileStream stream, string path)
    {
        long fileLength = stream.Length;
        if (fileLength < 8)
            throw new DataFormatException(path, $"is {fileLength} bytes, shorter than a safetensors header's 8-byte length: the file is truncated or not safetensors.");
        Span<byte> lengthBytes = stackalloc byte[8];
        stream.ReadExactly(lengthBytes);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > MaxHeaderBytes)
            throw new DataFormatException(path, $"declares a {headerLength}-byte header, over the {MaxHeaderBytes}-byte limit: the file is corrupt or not safetensors.");
        if ((long)headerLength > fileLength - 8)
            throw new DataFormatException(path, $"declares a {headerLength}-byte header but holds only {fileLength - 8} bytes after the length: the file is truncated.");
        var headerBytes = new byte[headerLength];
        stream.ReadExactly(headerBytes);
        long dataStart = 8 + (long)headerLength, dataLength = fileLength - dataStart;

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(headerBytes);
        }
        catch (JsonException e)
        {
            throw new DataFormatException(path, $"its header is not valid JSON ({e.Message}).", inner: e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new DataFormatException(path, "its header is not a JSON object.");
            var entries = new List<SafeTensorsEntry>();
            var metadata = new Dictionary<string, string>();
            var names = new HashSet<string>();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!names.Add(property.Name))
                    throw new DataFormatException(path, $"tensor '{property.Name}' appears twice in the header.");
                if (property.Name == MetadataKey)
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                        throw new DataFormatException(path, "its __metadata__ is not an object of strings.");
                    foreach (var item in property.Value.EnumerateObject())
                        metadata[item.Name] = item.Value.ValueKind == JsonValueKind.String
                            ? item.Value.GetString()!
                            : throw new DataFormatException(path, $"metadata '{item.Name}' is not a string.");
                    continue;
                }
                entries.Add(Entry(path, property, dataLength));
            }
            CheckLayout(path, entries, dataLength);
            return ((entries, metadata), dataStart);
        }
    }

    private static SafeTensorsEntry Entry(string path, JsonProperty property, long dataLength)
    {
        string name = property.Name;
        DataFormatException Bad(string problem) => new(path, $"tensor '{name}': {problem}");
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object) throw Bad("its header entry is not an object.");
        if (!value.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
            throw Bad("its header entry has no dtype.");
        string dtypeName = dtypeElement.GetString()!;
        var dtype = TensorDType.FromSafeTensorsName(dtypeName)
            ?? throw Bad($"unknown dtype '{dtypeName}'; known: {TensorDType.KnownSafeTensorsNames}.");
        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw Bad("its header entry has no shape.");
        var shape = new List<long>();
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long size) || size < 0)
                throw Bad($"shape [{shapeElement}] is not a list of sizes >= 0.");
            shape.Add(size);
        }
        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2
            || !offsets[0].TryGetInt64(out long begin) || !offsets[1].TryGetInt64(out long end))
            throw Bad("its header entry has no data_offsets [begin, end].");
        if (begin < 0 || end < begin || end > dataLength)
            throw Bad($"data_offsets [{begin}, {end}] lie outside the {dataLength}-byte data section: the file is truncated or corrupt.");
        long bytes = dtype.Size;
        try
        {
            foreach (long d in shape) bytes = checked(bytes * d);
        }
        catch (OverflowException)
        {
            throw Bad($"shape [{string.Join(", ", shape)}] is too large.");
        }
        if (end - begin != bytes)
            throw Bad($"data_offsets [{begin}, {end}] hold {end - begin} bytes, but a {dtypeName} tensor of shape [{string.Join(", ", shape)}] takes {bytes}.");
        return new SafeTensorsEntry(name, dtype.Type, shape.ToArray(), begin, end);
    }

    private static void CheckLayout(string path, List<SafeTensorsEntry> entries, long dataLength)
    {
        long covered = 0;
        SafeTensorsEntry? previous = null;
        foreach (var entry in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (entry.Begin < covered && entry.End > entry.Begin)
                throw new DataFormatException(path, $"tensor '{entry.Name}': data_offsets [{entry.Begin}, {entry.End}] overlap those of '{previous!.Name}' [{previous.Begin}, {previous.End}].");
            if (entry.Begin > covered)
                throw new DataFormatException(path, $"tensor '{entry.Name}': the data bytes [{covered}, {entry.Begin}) before it belong to no tensor: the file is corrupt.");
            covered = Math.Max(covered, entry.End);
            previous = entry;
        }
        if (covered != dataLength)
            throw new DataFormatException(path, $"its data section has {dataLength} bytes but the tensors cover {covered}: the file is corrupt.");
    }
}
