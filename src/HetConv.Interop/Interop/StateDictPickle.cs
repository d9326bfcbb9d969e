using System.Buffers.Binary;
using System.Text;
using HetConv.Data;
using static TorchSharp.torch;

namespace HetConv.Interop;

/// <summary>One tensor of a pickled state dict: where its elements are in which storage record, not yet read.</summary>
internal sealed record PickledTensor(string Name, ScalarType DType, long[] Shape, long[] Stride, long Offset, string StorageKey, long StorageElements)
{
    /// <summary>Whether every element the view reaches lies inside its storage.</summary>
    public bool FitsInStorage()
    {
        if (Offset < 0 || Stride.Length != Shape.Length || Shape.Any(d => d < 0) || Stride.Any(s => s < 0)) return false;
        if (Shape.Any(d => d == 0)) return Offset <= StorageElements;
        long last = Offset;
        for (int i = 0; i < Shape.Length; i++) last += (Shape[i] - 1) * Stride[i];
        return last < StorageElements;
    }
}

/// <summary>
/// The pickle inside a PyTorch state-dict file. Writing emits protocol 2 as <c>torch.save</c> does. Reading runs a
/// small pickle machine that knows only data opcodes and an allow-list of globals: <c>collections.OrderedDict</c>,
/// <c>torch._utils._rebuild_tensor_v2</c>, <c>torch._utils._rebuild_parameter</c> and the <c>torch.*Storage</c> types;
/// any other global, object construction or unknown opcode is refused with an error naming it.
/// </summary>
internal static class StateDictPickle
{
    private const string RebuildTensor = "torch._utils._rebuild_tensor_v2";
    private const string RebuildParameter = "torch._utils._rebuild_parameter";
    private const string OrderedDictName = "collections.OrderedDict";

    public static void Write(Stream stream, IReadOnlyList<(string Name, ScalarType DType, long[] Shape, string StorageKey)> tensors)
    {
        var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        void Global(string module, string name) => w.Write(Encoding.ASCII.GetBytes($"c{module}\n{name}\n"));
        void Text(string s)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            w.Write((byte)'X');
            w.Write(bytes.Length);
            w.Write(bytes);
        }
        void Int(long v)
        {
            if (v is >= int.MinValue and <= int.MaxValue)
            {
                w.Write((byte)'J');
                w.Write((int)v);
            }
            else
            {
                w.Write((byte)0x8a);
                w.Write((byte)8);
                w.Write(v);
            }
        }
        void Tuple(IEnumerable<long> values)
        {
            w.Write((byte)'(');
            foreach (long v in values) Int(v);
            w.Write((byte)'t');
        }

        w.Write((byte)0x80);
        w.Write((byte)2);
        Global("collections", "OrderedDict");
        w.Write((byte)')');
        w.Write((byte)'R');
        w.Write((byte)'(');
        foreach (var (name, dtype, shape, key) in tensors)
        {
            Text(name);
            Global("torch._utils", "_rebuild_tensor_v2");
            w.Write((byte)'(');
            // persistent id: ('storage', torch.FloatStorage, key, 'cpu', elements)
            w.Write((byte)'(');
            Text("storage");
            Global("torch", TensorDType.StorageName(dtype));
            Text(key);
            Text("cpu");
            Int(shape.Aggregate(1L, (a, b) => a * b));
            w.Write((byte)'t');
            w.Write((byte)'Q');
            Int(0);
            Tuple(shape);
            var stride = new long[shape.Length];
            for (int i = shape.Length - 1, s = 1; i >= 0; s *= (int)Math.Max(shape[i], 1), i--) stride[i] = s;
            Tuple(stride);
            w.Write((byte)0x89);   // requires_grad False
            Global("collections", "OrderedDict");
            w.Write((byte)')');
            w.Write((byte)'R');
            w.Write((byte)'t');
            w.Write((byte)'R');
        }
        w.Write((byte)'u');
        w.Write((byte)'.');
        w.Flush();
    }

    private sealed record GlobalRef(string Name);

    private sealed record StorageRef(ScalarType DType, string Key, long Elements);

    private sealed record TensorRef(StorageRef Storage, long Offset, long[] Shape, long[] Stride);

    /// <summary>A dict, in insertion order.</summary>
    private sealed class PickleDict : List<KeyValuePair<object?, object?>>;

    private static readonly object Mark = new();

    /// <summary>The tensors of the pickled state dict, in its order. Errors name <paramref name="path"/> and the tensor.</summary>
    public static List<PickledTensor> Read(byte[] pickle, string path)
    {
        DataFormatException Bad(string problem) => new(path, problem);
        var stack = new List<object?>();
        var memo = new Dictionary<long, object?>();
        int pos = 0;

        ReadOnlySpan<byte> Take(int n)
        {
            if (n < 0 || pos + n > pickle.Length) throw Bad("its data.pkl ends in the middle of an instruction: the file is truncated or corrupt.");
            var span = pickle.AsSpan(pos, n);
            pos += n;
            return span;
        }
        string Line()
        {
            int end = Array.IndexOf(pickle, (byte)'\n', pos);
            if (end < 0) throw Bad("its data.pkl ends in the middle of a name: the file is truncated or corrupt.");
            string s = Encoding.ASCII.GetString(pickle, pos, end - pos);
            pos = end + 1;
            return s;
        }
        object? Pop()
        {
            if (stack.Count == 0) throw Bad("its data.pkl pops an empty stack: the file is corrupt.");
            var top = stack[^1];
            stack.RemoveAt(stack.Count - 1);
            return top;
        }
        List<object?> PopToMark()
        {
            int mark = stack.LastIndexOf(Mark);
            if (mark < 0) throw Bad("its data.pkl has no mark where one is needed: the file is corrupt.");
            var items = stack.GetRange(mark + 1, stack.Count - mark - 1);
            stack.RemoveRange(mark, stack.Count - mark);
            return items;
        }
        T As<T>(object? value, string what) => value is T t ? t : throw Bad($"its data.pkl has {Describe(value)} where {what} belongs: not a state dict.");

        while (true)
        {
            byte op = Take(1)[0];
            switch (op)
            {
                case 0x80: Take(1); break;                                  // PROTO
                case 0x95: Take(8); break;                                  // FRAME
                case (byte)'}': stack.Add(new PickleDict()); break;         // EMPTY_DICT
                case (byte)']': stack.Add(new List<object?>()); break;      // EMPTY_LIST
                case (byte)')': stack.Add(Array.Empty<object?>()); break;   // EMPTY_TUPLE
                case (byte)'(': stack.Add(Mark); break;
                case (byte)'N': stack.Add(null); break;
                case 0x88: stack.Add(true); break;
                case 0x89: stack.Add(false); break;
                case (byte)'J': stack.Add((long)BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                case (byte)'K': stack.Add((long)Take(1)[0]); break;
                case (byte)'M': stack.Add((long)BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                case 0x8a:                                                  // LONG1
                {
                    int n = Take(1)[0];
                    if (n > 8) throw Bad($"its data.pkl holds a {n}-byte integer, larger than any size in a state dict.");
                    var bytes = Take(n);
                    long v = 0;
                    for (int i = n - 1; i >= 0; i--) v = (v << 8) | bytes[i];
                    if (n is > 0 and < 8 && (bytes[n - 1] & 0x80) != 0) v -= 1L << (8 * n);
                    stack.Add(v);
                    break;
                }
                case (byte)'G': stack.Add(BinaryPrimitives.ReadDoubleBigEndian(Take(8))); break;
                case (byte)'X': stack.Add(Encoding.UTF8.GetString(Take(checked((int)BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))))); break;
                case 0x8c: stack.Add(Encoding.UTF8.GetString(Take(Take(1)[0]))); break;
                case (byte)'c': stack.Add(Allowed(Line() + "." + Line(), path)); break;
                case 0x93:                                                  // STACK_GLOBAL
                {
                    string name = As<string>(Pop(), "a global's name"), module = As<string>(Pop(), "a global's module");
                    stack.Add(Allowed(module + "." + name, path));
                    break;
                }
                case (byte)'t': stack.Add(PopToMark().ToArray()); break;
                case 0x85: stack.Add(new[] { Pop() }); break;
                case 0x86: { var b = Pop(); var a = Pop(); stack.Add(new[] { a, b }); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); stack.Add(new[] { a, b, c }); break; }
                case (byte)'l': stack.Add(PopToMark()); break;
                case (byte)'d': { var items = PopToMark(); var d = new PickleDict(); AddPairs(d, items); stack.Add(d); break; }
                case (byte)'a': { var v = Pop(); As<List<object?>>(stack.LastOrDefault(), "a list").Add(v); break; }
                case (byte)'e': { var items = PopToMark(); As<List<object?>>(stack.LastOrDefault(), "a list").AddRange(items); break; }
                case (byte)'s': { var v = Pop(); var k = Pop(); AddPairs(As<PickleDict>(stack.LastOrDefault(), "a dict"), new List<object?> { k, v }); break; }
                case (byte)'u': { var items = PopToMark(); AddPairs(As<PickleDict>(stack.LastOrDefault(), "a dict"), items); break; }
                case (byte)'q': memo[Take(1)[0]] = stack.LastOrDefault(); break;
                case (byte)'r': memo[BinaryPrimitives.ReadUInt32LittleEndian(Take(4))] = stack.LastOrDefault(); break;
                case 0x94: memo[memo.Count] = stack.LastOrDefault(); break;
                case (byte)'h': stack.Add(Recall(Take(1)[0])); break;
                case (byte)'j': stack.Add(Recall(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))); break;
                case (byte)'Q': stack.Add(Storage(Pop(), path)); break;      // BINPERSID
                case (byte)'R':
                {
                    var args = As<object?[]>(Pop(), "a call's arguments");
                    var callee = As<GlobalRef>(Pop(), "a callable");
                    stack.Add(Call(callee, args, path));
                    break;
                }
                case (byte)'b':                                             // BUILD: only a dict's plain attributes (e.g. _metadata)
                {
                    var state = Pop();
                    if (stack.LastOrDefault() is not PickleDict || !IsPlain(state))
                        throw Bad($"its data.pkl sets the state of {Describe(stack.LastOrDefault())}; refused: a state dict sets none but plain attributes.");
                    break;
                }
                case (byte)'.':
                    return Tensors(As<PickleDict>(Pop(), "the state dict"), path);
                default:
                    throw Bad($"its data.pkl uses pickle opcode 0x{op:x2} at byte {pos - 1}, which a state dict does not need; refused (loading runs no code from a file).");
            }
        }

        object? Recall(long key) => memo.TryGetValue(key, out var v) ? v : throw Bad($"its data.pkl recalls memo {key}, never stored: the file is corrupt.");
        void AddPairs(PickleDict d, List<object?> items)
        {
            if (items.Count % 2 != 0) throw Bad("its data.pkl sets a dict item without a value: the file is corrupt.");
            for (int i = 0; i < items.Count; i += 2) d.Add(new(items[i], items[i + 1]));
        }
    }

    private static GlobalRef Allowed(string name, string path)
    {
        bool storage = name.StartsWith("torch.", StringComparison.Ordinal) && name.EndsWith("Storage", StringComparison.Ordinal)
                       && TensorDType.FromStorageName(name["torch.".Length..]) is not null;
        if (storage || name is RebuildTensor or RebuildParameter or OrderedDictName) return new GlobalRef(name);
        throw new DataFormatException(path,
            $"its pickle refers to '{name}', which is not in a state dict of tensors; refused (loading runs no code from a file: save the model's state_dict(), or use .safetensors).");
    }

    private static StorageRef Storage(object? pid, string path)
    {
        if (pid is object?[] { Length: 5 } t && t[0] is "storage" && t[1] is GlobalRef type && t[2] is string key && t[4] is long elements && elements >= 0
            && TensorDType.FromStorageName(type.Name["torch.".Length..]) is { } dtype)
            return new StorageRef(dtype.Type, key, elements);
        throw new DataFormatException(path, $"its pickle has the persistent id {Describe(pid)}, not a tensor storage.");
    }

    private static object Call(GlobalRef callee, object?[] args, string path)
    {
        switch (callee.Name)
        {
            case OrderedDictName when args.Length == 0:
                return new PickleDict();
            case RebuildTensor when args.Length is 6 or 7 && args[0] is StorageRef storage && args[1] is long offset
                                    && Longs(args[2]) is { } shape && Longs(args[3]) is { } stride:
                return new TensorRef(storage, offset, shape, stride);
            case RebuildParameter when args.Length is 3 && args[0] is TensorRef tensor:
                return tensor;
            default:
                throw new DataFormatException(path, $"its pickle calls {callee.Name} with ({string.Join(", ", args.Select(Describe))}); refused: not the form a state dict has.");
        }
    }

    private static long[]? Longs(object? value) =>
        value is object?[] items && items.All(i => i is long) ? items.Select(i => (long)i!).ToArray() : null;

    private static bool IsPlain(object? value) => value switch
    {
        null or string or long or double or bool => true,
        object?[] items => items.All(IsPlain),
        List<object?> items => items.All(IsPlain),
        PickleDict d => d.All(p => IsPlain(p.Key) && IsPlain(p.Value)),
        _ => false,
    };

    private static List<PickledTensor> Tensors(PickleDict dict, string path)
    {
        var result = new List<PickledTensor>();
        var names = new HashSet<string>();
        foreach (var (key, value) in dict)
        {
            if (key is not string name) throw new DataFormatException(path, $"its state dict has the key {Describe(key)}, not a name.");
            if (value is not TensorRef t) throw new DataFormatException(path, $"tensor '{name}': the state dict holds {Describe(value)} there, not a tensor.");
            if (!names.Add(name)) throw new DataFormatException(path, $"tensor '{name}' appears twice.");
            result.Add(new PickledTensor(name, t.Storage.DType, t.Shape, t.Stride, t.Offset, t.Storage.Key, t.Storage.Elements));
        }
        return result;
    }

    private static string Describe(object? value) => value switch
    {
        null => "None",
        string s => $"'{(s.Length > 40 ? s[..40] + "..." : s)}'",
        GlobalRef g => g.Name,
        TensorRef => "a tensor",
        StorageRef => "a storage",
        PickleDict => "a dict",
        object?[] t => $"a tuple of {t.Length}",
        List<object?> l => $"a list of {l.Count}",
        _ => value == Mark ? "a mark" : value.ToString() ?? value.GetType().Name,
    };
}
