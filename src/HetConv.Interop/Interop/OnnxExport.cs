using Google.Protobuf;
using HetConv.Files;
using HetConv.Layers;
using HetConv.Models;
using Onnx;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HetConv.Interop;

/// <summary>How a HetConv2d appears in an ONNX graph.</summary>
public enum OnnxHetConvForm
{
    /// <summary>
    /// HetConv's FLOPs in standard operators: a Gather putting each KxK group's input channels side by side, one Conv
    /// with P groups for all KxK kernels, a Gather putting its outputs in filter order, a 1x1 Conv for the point-wise
    /// kernels, and an Add. The Gathers are left out where the order is already right (blocked, P dividing N).
    /// </summary>
    Grouped,

    /// <summary>One Conv with the dense weight (zeros outside the pattern): runs anywhere, costs a standard convolution.</summary>
    Dense,
}

/// <summary>
/// Writes a zoo model as an ONNX graph (opset 17, IR 8) that any ONNX runtime runs: input <c>input</c>
/// [batch, C, H, W] and output <c>logits</c> [batch, classes], the batch dimension dynamic, every BatchNorm folded
/// into the convolution or linear layer before it, dropout left out (inference). The model is read, not changed.
/// </summary>
/// <remarks>
/// The zoo's models have forwards written in C#, which cannot be traced; each model and block type is therefore
/// spelled out here as the operators its forward applies, and any other module is refused with its type named.
/// </remarks>
public static class OnnxExport
{
    public const int Opset = 17;
    public const string InputName = "input";
    public const string OutputName = "logits";

    /// <summary>The graph of <paramref name="model"/> for inputs of shape [batch, <paramref name="inputShape"/>].</summary>
    public static ModelProto Build(nn.Module<Tensor, Tensor> model, long[] inputShape, OnnxHetConvForm form = OnnxHetConvForm.Grouped,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        if (inputShape.Length != 3) throw new ArgumentException("the input shape is [channels, height, width].", nameof(inputShape));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        bool training = model.training;
        model.eval();
        try
        {
            var poolInputs = AdaptivePoolInputs(model, inputShape, out long classes);
            var emitter = new Emitter(new OnnxGraphBuilder(), form, poolInputs);
            string output = emitter.Module(model, InputName);
            var graph = emitter.Builder.Graph;
            graph.Name = model.GetName();
            graph.Input.Add(OnnxGraphBuilder.Value(InputName, inputShape));
            var last = graph.Node[^1];
            if (last.Output[0] != output) throw new InvalidOperationException("the graph's last node does not produce the model's output.");
            last.Output[0] = OutputName;
            graph.Output.Add(OnnxGraphBuilder.Value(OutputName, classes));

            var proto = new ModelProto { IrVersion = 8, ProducerName = "HetConv.NET", Graph = graph };
            proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
            foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
                proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
            return proto;
        }
        finally
        {
            model.train(training);
        }
    }

    public static void Save(nn.Module<Tensor, Tensor> model, string path, long[] inputShape, OnnxHetConvForm form = OnnxHetConvForm.Grouped,
        IReadOnlyDictionary<string, string>? metadata = null)
    {
        var proto = Build(model, inputShape, form, metadata);
        AtomicFile.Write(path, stream => proto.WriteTo(stream));
    }

    /// <summary>One forward pass on zeros to find the spatial size each adaptive average pool receives, and the class count.</summary>
    private static Dictionary<nn.Module, long[]> AdaptivePoolInputs(nn.Module<Tensor, Tensor> model, long[] inputShape, out long classes)
    {
        var sizes = new Dictionary<nn.Module, long[]>(ReferenceEqualityComparer.Instance);
        var hooks = model.modules().OfType<AdaptiveAvgPool2d>()
            .Select(pool => pool.register_forward_pre_hook((m, x) =>
            {
                sizes[m] = x.shape[2..];
                return x;
            }))
            .ToList();
        try
        {
            using var output = model.call(zeros(new long[] { 1 }.Concat(inputShape).ToArray()));
            if (output.dim() != 2) throw new ArgumentException($"the model's output is [{string.Join(", ", output.shape)}]; a classifier's [batch, classes] is exported.");
            classes = output.shape[1];
        }
        finally
        {
            foreach (var hook in hooks) hook.remove();
        }
        return sizes;
    }

    private sealed class Emitter(OnnxGraphBuilder builder, OnnxHetConvForm form, Dictionary<nn.Module, long[]> poolInputs)
    {
        public OnnxGraphBuilder Builder => builder;

        public string Module(nn.Module module, string x)
        {
            var c = Children(module);
            switch (module)
            {
                case CifarResNet:
                    x = Relu(ConvBn(c["conv1"], c["bn1"], x));
                    x = Module(c["layer3"], Module(c["layer2"], Module(c["layer1"], x)));
                    return Classifier(c["avgpool"], c["fc"], x);
                case ImageNetResNet:
                    x = Module(c["maxpool"], Relu(ConvBn(c["conv1"], c["bn1"], x)));
                    x = Module(c["layer4"], Module(c["layer3"], Module(c["layer2"], Module(c["layer1"], x))));
                    return Classifier(c["avgpool"], c["fc"], x);
                case CifarMobileNet:
                    x = Module(c["layers"], Relu(ConvBn(c["conv1"], c["bn1"], x)));
                    return Classifier(c["avgpool"], c["linear"], x);
                case Vgg16:
                    x = Module(c["avgpool"], Module(c["features"], x));
                    return Module(c["classifier"], builder.Flatten(x));
                case BasicBlock:
                {
                    var y = Relu(ConvBn(c["conv1"], c["bn1"], x));
                    y = ConvBn(c["conv2"], c["bn2"], y);
                    if (c.TryGetValue("se", out var se)) y = Module(se, y);
                    return Relu(builder.Op("Add", y, c.TryGetValue("downsample", out var down) ? Module(down, x) : x));
                }
                case Bottleneck:
                {
                    var y = Relu(ConvBn(c["conv1"], c["bn1"], x));
                    y = Relu(ConvBn(c["conv2"], c["bn2"], y));
                    y = ConvBn(c["conv3"], c["bn3"], y);
                    if (c.TryGetValue("se", out var se)) y = Module(se, y);
                    return Relu(builder.Op("Add", y, c.TryGetValue("downsample", out var down) ? Module(down, x) : x));
                }
                case MobileNetBlock:
                {
                    var y = Relu(ConvBn(c["conv1"], c["bn1"], x));
                    if (c.TryGetValue("conv2", out var conv2)) y = Relu(ConvBn(conv2, c["bn2"], y));
                    return c.TryGetValue("se", out var se) ? Module(se, y) : y;
                }
                case SqueezeExcitation:
                {
                    var squeezed = builder.Flatten(builder.Op("GlobalAveragePool", x));
                    var gate = builder.Op("Sigmoid", EmitLinear(c["fc2"], null, Relu(EmitLinear(c["fc1"], null, squeezed))));
                    return builder.Op("Mul", x, builder.Op("Unsqueeze", gate, builder.Ints("se_axes", 2, 3)));
                }
                case ZeroPadShortcut shortcut:
                {
                    long step = shortcut.Stride;
                    var y = step == 1 ? x : builder.Op("Slice", x, builder.Ints("starts", 0, 0), builder.Ints("ends", long.MaxValue, long.MaxValue),
                        builder.Ints("axes", 2, 3), builder.Ints("steps", step, step));
                    var (before, after) = shortcut.ChannelPadding;
                    return builder.Op("Pad", y, builder.Ints("pads", 0, before, 0, 0, 0, after, 0, 0));
                }
                case Sequential:
                {
                    var list = c.Values.ToList();
                    for (int i = 0; i < list.Count; i++)
                    {
                        bool folds = i + 1 < list.Count && list[i + 1] is BatchNorm2d or BatchNorm1d && IsConvOrLinear(list[i]);
                        x = folds ? ConvBn(list[i], list[++i], x) : Module(list[i], x);
                    }
                    return x;
                }
                case Conv2d or HetConv2d or GroupwisePointwiseConv2d or DepthwisePointwiseConv2d or Linear:
                    return ConvBn(module, null, x);
                case ReLU:
                    return Relu(x);
                case Dropout or Identity:
                    return x;
                case MaxPool2d pool:
                    if (pool.dilation is { } d && d.Any(v => v != 1)) throw Unsupported(module, "dilated max-pool");
                    return builder.MaxPool(x, pool.kernel_size, pool.stride ?? pool.kernel_size, pool.padding ?? new long[] { 0, 0 }, pool.ceil_mode);
                case AdaptiveAvgPool2d pool:
                    return AdaptivePool(pool, x);
                case BatchNorm2d bn:
                    return ConvBn(nn.Identity(), bn, x);
                default:
                    throw Unsupported(module, "no ONNX form is defined for it");
            }
        }

        private string Classifier(nn.Module pool, nn.Module fc, string x) => Module(fc, builder.Flatten(Module(pool, x)));

        private string Relu(string x) => builder.Op("Relu", x);

        private static bool IsConvOrLinear(nn.Module m) => m is Conv2d or HetConv2d or GroupwisePointwiseConv2d or DepthwisePointwiseConv2d or Linear;

        /// <summary>A convolution or linear layer with the BatchNorm after it (if any) folded into its weights.</summary>
        private string ConvBn(nn.Module layer, nn.Module? norm, string x)
        {
            var (scale, shift) = Affine(norm);
            switch (layer)
            {
                case Conv2d conv:
                    return EmitConv2d(conv, scale, shift, x);
                case HetConv2d het:
                {
                    var y = form == OnnxHetConvForm.Dense || het.Part == 1 ? DenseHetConv(het, scale, shift, x) : GroupedHetConv(het, scale, shift, x);
                    return het.ReluOutput ? Relu(y) : y;
                }
                case GroupwisePointwiseConv2d or DepthwisePointwiseConv2d:
                {
                    var c = Children(layer);
                    var first = (Conv2d)c.Values.First();
                    return EmitConv2d((Conv2d)c["pwc"], scale, shift, EmitConv2d(first, null, null, x));
                }
                case Linear linear:
                    return EmitLinear(linear, norm, x);
                case Identity when norm is BatchNorm2d:
                {
                    // A BatchNorm alone: a per-channel scale and shift.
                    var y = builder.Op("Mul", x, builder.Constant("bn_scale", scale!.reshape(-1, 1, 1)));
                    return builder.Op("Add", y, builder.Constant("bn_shift", shift!.reshape(-1, 1, 1)));
                }
                case Identity:
                    return x;
                default:
                    throw Unsupported(layer, "a BatchNorm follows it, which only a convolution or linear layer can absorb");
            }
        }

        /// <summary>The inference-mode BatchNorm as y = x * scale + shift, or nulls for none.</summary>
        private static (Tensor? Scale, Tensor? Shift) Affine(nn.Module? norm)
        {
            if (norm is null or Identity) return (null, null);
            var bn = (BatchNorm)norm;
            if (bn.running_mean is null || bn.running_var is null)
                throw Unsupported(norm, "a BatchNorm without running statistics has no inference form");
            var scale = bn.running_var.add(bn.eps).rsqrt();
            if (bn.weight is not null) scale = scale.mul(bn.weight);
            var shift = bn.running_mean.neg().mul(scale);
            if (bn.bias is not null) shift = shift.add(bn.bias);
            return (scale, shift);
        }

        private static (Tensor Weight, Tensor? Bias) Fold(Tensor weight, Tensor? bias, Tensor? scale, Tensor? shift)
        {
            if (scale is null) return (weight, bias);
            var w = weight.mul(scale.reshape(new long[] { -1 }.Concat(Enumerable.Repeat(1L, (int)weight.dim() - 1)).ToArray()));
            var b = bias is null ? shift! : bias.mul(scale).add(shift!);
            return (w, b);
        }

        private string EmitConv2d(Conv2d conv, Tensor? scale, Tensor? shift, string x)
        {
            if (conv.padding_mode != PaddingModes.Zeros || conv.dilation.Any(d => d != 1) || conv.stride[0] != conv.stride[1])
                throw Unsupported(conv, "only zero-padded, undilated convolutions with equal strides are exported");
            var padding = conv.padding ?? new long[] { 0, 0 };
            if (conv.padding_type is not null || padding[0] != padding[1])
                throw Unsupported(conv, "only explicit, equal padding is exported");
            var (w, b) = Fold(conv.weight!, conv.bias, scale, shift);
            return builder.Conv(x, builder.Constant("conv_w", w), b is null ? null : builder.Constant("conv_b", b),
                conv.kernel_size, conv.stride[0], padding[0], conv.groups);
        }

        private string EmitLinear(nn.Module module, nn.Module? norm, string x)
        {
            var linear = (Linear)module;
            var (scale, shift) = Affine(norm);
            var (w, b) = Fold(linear.weight, linear.bias ?? zeros(linear.out_features), scale, shift);
            return builder.Gemm(x, builder.Constant("fc_w", w), builder.Constant("fc_b", b!));
        }

        private string DenseHetConv(HetConv2d het, Tensor? scale, Tensor? shift, string x)
        {
            var (w, b) = Fold(het.DenseWeight(), het.Bias, scale, shift);
            long k = het.KernelSize;
            return builder.Conv(x, builder.Constant("het_dense_w", w), b is null ? null : builder.Constant("het_b", b),
                new[] { k, k }, het.Stride, het.Padding);
        }

        /// <summary>
        /// KxK kernels as one grouped convolution over the input channels gathered group by group, 1x1 kernels as a
        /// point-wise convolution (zero on each filter's KxK channels, whose centre tap the KxK kernel holds), added.
        /// </summary>
        private string GroupedHetConv(HetConv2d het, Tensor? scale, Tensor? shift, string x)
        {
            var pattern = het.Pattern;
            int n = het.OutChannels, m = het.InChannels, k = het.KernelSize;
            var (kxk, _) = Fold(het.KxkWeight, null, scale, shift);
            var (pointwise, bias) = Fold(PointwiseDense(het), het.Bias, scale, shift);

            var inputOrder = pattern.GroupedInputOrder();
            var gathered = IsIdentity(inputOrder, m) ? x : builder.Gather(x, builder.Ints("het_in_order", inputOrder.Select(i => (long)i).ToArray()), 1);
            var filterOfSlot = pattern.FilterOfSlot();
            var rows = filterOfSlot.Select(f => f >= 0 ? kxk[f] : zeros_like(kxk[0])).ToArray();
            var grouped = builder.Conv(gathered, builder.Constant("het_kxk_w", stack(rows)), null, new long[] { k, k }, het.Stride, het.Padding, het.Part);
            var slotOfFilter = pattern.SlotOfFilter();
            var kxkOut = IsIdentity(slotOfFilter, filterOfSlot.Length)
                ? grouped
                : builder.Gather(grouped, builder.Ints("het_out_order", slotOfFilter.Select(s => (long)s).ToArray()), 1);
            var pointwiseOut = builder.Conv(x, builder.Constant("het_pw_w", pointwise.reshape(n, m, 1, 1)),
                bias is null ? null : builder.Constant("het_b", bias), new long[] { 1, 1 }, het.Stride, 0);
            return builder.Op("Add", kxkOut, pointwiseOut);
        }

        /// <summary>[N, M]: each filter's 1x1 kernels on their input channels, zero on its KxK channels.</summary>
        private static Tensor PointwiseDense(HetConv2d het)
        {
            var dense = zeros(het.OutChannels, het.InChannels);
            var index = stack(Enumerable.Range(0, het.OutChannels).Select(f => tensor(het.Pattern.PointwiseChannels(f).Select(c => (long)c).ToArray())).ToArray());
            return dense.scatter(1, index, het.PointwiseWeight.detach().cpu().to(ScalarType.Float32));
        }

        private static bool IsIdentity(int[] order, int length) => order.Length == length && order.Select((v, i) => v == i).All(b => b);

        private string AdaptivePool(AdaptiveAvgPool2d pool, string x)
        {
            long[] output = pool.output_size;
            if (output.All(o => o == 1)) return builder.Op("GlobalAveragePool", x);
            if (!poolInputs.TryGetValue(pool, out var input))
                throw Unsupported(pool, "the forward pass did not reach it, so its input size is unknown");
            long h = input[0], w = input[1], oh = output[0], ow = output[^1];
            if (h == oh && w == ow) return x;
            // Each output cell averages its window (PyTorch's floor/ceil bounds): one constant [H*W, oh*ow] matrix.
            var weights = zeros(h * w, oh * ow);
            for (long i = 0; i < oh; i++)
            for (long j = 0; j < ow; j++)
            {
                long h0 = i * h / oh, h1 = ((i + 1) * h + oh - 1) / oh, w0 = j * w / ow, w1 = ((j + 1) * w + ow - 1) / ow;
                float share = 1f / ((h1 - h0) * (w1 - w0));
                for (long r = h0; r < h1; r++)
                for (long s = w0; s < w1; s++)
                    weights[r * w + s, i * ow + j] = share;
            }
            var flat = builder.Op("Reshape", x, builder.Ints("pool_in", 0, 0, h * w));
            var pooled = builder.Op("MatMul", flat, builder.Constant("pool_w", weights));
            return builder.Op("Reshape", pooled, builder.Ints("pool_out", 0, 0, oh, ow));
        }

        private static Dictionary<string, nn.Module> Children(nn.Module module) =>
            module.named_children().ToDictionary(c => c.name, c => c.module);

        private static NotSupportedException Unsupported(nn.Module module, string why) =>
            new($"cannot export a {module.GetType().Name} to ONNX: {why}.");
    }
}
