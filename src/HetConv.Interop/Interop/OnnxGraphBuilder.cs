using Google.Protobuf;
using Onnx;
using static TorchSharp.torch;

namespace HetConv.Interop;

/// <summary>
/// Appends ONNX nodes and constant initializers to a graph, one method per operator the exporter uses (opset 17),
/// each returning the name of its output value. Constants are float32 (int64 for indices and shapes).
/// </summary>
internal sealed class OnnxGraphBuilder
{
    private int counter;

    public GraphProto Graph { get; } = new();

    public string Constant(string hint, Tensor value)
    {
        using var cpu = value.detach().cpu().contiguous();
        var proto = new TensorProto { Name = Unique(hint) };
        proto.Dims.AddRange(cpu.shape);
        proto.DataType = cpu.dtype switch
        {
            ScalarType.Float32 => (int)TensorProto.Types.DataType.Float,
            ScalarType.Int64 => (int)TensorProto.Types.DataType.Int64,
            _ => throw new ArgumentException($"constants of type {cpu.dtype} are not written."),
        };
        proto.RawData = ByteString.CopyFrom(cpu.bytes);
        Graph.Initializer.Add(proto);
        return proto.Name;
    }

    public string Ints(string hint, params long[] values) => Constant(hint, tensor(values, ScalarType.Int64));

    public string Conv(string x, string weight, string? bias, long[] kernel, long stride, long padding, long groups = 1)
    {
        var node = Node("Conv", bias is null ? new[] { x, weight } : new[] { x, weight, bias });
        Attribute(node, "kernel_shape", kernel);
        Attribute(node, "strides", stride, stride);
        Attribute(node, "pads", padding, padding, padding, padding);
        Attribute(node, "group", groups);
        return node.Output[0];
    }

    /// <summary>x W^T + b, x [batch, in], W [out, in].</summary>
    public string Gemm(string x, string weight, string bias)
    {
        var node = Node("Gemm", x, weight, bias);
        Attribute(node, "transB", 1);
        return node.Output[0];
    }

    public string Gather(string x, string indices, long axis)
    {
        var node = Node("Gather", x, indices);
        Attribute(node, "axis", axis);
        return node.Output[0];
    }

    public string MaxPool(string x, long[] kernel, long[] stride, long[] padding, bool ceil)
    {
        var node = Node("MaxPool", x);
        Attribute(node, "kernel_shape", kernel);
        Attribute(node, "strides", stride);
        Attribute(node, "pads", padding[0], padding[1], padding[0], padding[1]);
        Attribute(node, "ceil_mode", ceil ? 1 : 0);
        return node.Output[0];
    }

    public string Flatten(string x)
    {
        var node = Node("Flatten", x);
        Attribute(node, "axis", 1);
        return node.Output[0];
    }

    public string Op(string type, params string[] inputs) => Node(type, inputs).Output[0];

    public string Unique(string hint) => $"{hint}_{counter++}";

    private NodeProto Node(string type, params string[] inputs)
    {
        var node = new NodeProto { OpType = type, Name = Unique(type) };
        node.Input.AddRange(inputs);
        node.Output.Add(node.Name + "_out");
        Graph.Node.Add(node);
        return node;
    }

    private static void Attribute(NodeProto node, string name, params long[] values)
    {
        bool single = name is "group" or "axis" or "transB" or "ceil_mode";
        var attribute = new AttributeProto { Name = name };
        if (single)
        {
            attribute.Type = AttributeProto.Types.AttributeType.Int;
            attribute.I = values[0];
        }
        else
        {
            attribute.Type = AttributeProto.Types.AttributeType.Ints;
            attribute.Ints.AddRange(values);
        }
        node.Attribute.Add(attribute);
    }

    /// <summary>A graph input or output: float32 [batch, dims...] with a named, dynamic batch dimension.</summary>
    public static ValueInfoProto Value(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "batch" });
        foreach (long d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}
