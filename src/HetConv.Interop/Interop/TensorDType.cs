using static TorchSharp.torch;

namespace HetConv.Interop;

/// <summary>The element types the weight files carry, by their safetensors name and their PyTorch storage name.</summary>
internal static class TensorDType
{
    private static readonly (ScalarType Type, string SafeTensors, string Storage, int Size)[] Known =
    {
        (ScalarType.Float32, "F32", "FloatStorage", 4),
        (ScalarType.Float64, "F64", "DoubleStorage", 8),
        (ScalarType.Float16, "F16", "HalfStorage", 2),
        (ScalarType.BFloat16, "BF16", "BFloat16Storage", 2),
        (ScalarType.Int64, "I64", "LongStorage", 8),
        (ScalarType.Int32, "I32", "IntStorage", 4),
        (ScalarType.Int16, "I16", "ShortStorage", 2),
        (ScalarType.Int8, "I8", "CharStorage", 1),
        (ScalarType.Byte, "U8", "ByteStorage", 1),
        (ScalarType.Bool, "BOOL", "BoolStorage", 1),
    };

    public static string SafeTensorsName(ScalarType type) => Find(type).SafeTensors;

    public static string StorageName(ScalarType type) => Find(type).Storage;

    public static int Size(ScalarType type) => Find(type).Size;

    public static (ScalarType Type, int Size)? FromSafeTensorsName(string name) =>
        Known.Where(k => k.SafeTensors == name).Select(k => ((ScalarType, int)?)(k.Type, k.Size)).FirstOrDefault();

    public static (ScalarType Type, int Size)? FromStorageName(string name) =>
        Known.Where(k => k.Storage == name).Select(k => ((ScalarType, int)?)(k.Type, k.Size)).FirstOrDefault();

    public static string KnownSafeTensorsNames => string.Join(", ", Known.Select(k => k.SafeTensors));

    private static (ScalarType Type, string SafeTensors, string Storage, int Size) Find(ScalarType type)
    {
        foreach (var k in Known)
            if (k.Type == type) return k;
        throw new ArgumentException($"tensors of type {type} cannot be written to a weight file.");
    }

    /// <summary>Writes a tensor's elements in row-major order as little-endian bytes (this machine's order).</summary>
    public static void WriteBytes(Stream stream, Tensor tensor)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("weight files are written on little-endian machines only.");
        using var cpu = tensor.detach().cpu().contiguous();
        stream.Write(cpu.bytes);
    }

    /// <summary>Fills a contiguous CPU tensor from a stream, exactly its byte size, without an intermediate array.</summary>
    public static void ReadBytes(Stream stream, Tensor destination)
    {
        var span = destination.bytes;
        stream.ReadExactly(span);
    }
}
