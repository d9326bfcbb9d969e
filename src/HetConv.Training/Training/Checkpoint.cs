using System.Text;
using System.Text.Json;
using HetConv.Data;
using HetConv.Files;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HetConv.Training;

/// <summary>
/// A training checkpoint in one file: a magic number, the <see cref="CheckpointState"/> as JSON, the model's
/// state dict and optionally the optimizer's state (TorchSharp's binary formats). Written atomically.
/// </summary>
public static class Checkpoint
{
    private static readonly byte[] Magic = "HCNVCKPT"u8.ToArray();
    private const int FormatVersion = 1;

    public static void Save(string path, CheckpointState state, nn.Module model, optim.Optimizer? optimizer)
    {
        AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            writer.Write(Magic);
            writer.Write(FormatVersion);
            byte[] json = JsonSerializer.SerializeToUtf8Bytes(state, TrainingOptions.Json);
            writer.Write(json.Length);
            writer.Write(json);
            model.save(writer);
            writer.Write(optimizer is not null);
            if (optimizer is OptimizerHelper helper)
                helper.save_state_dict(writer);
            else if (optimizer is not null)
                throw new ArgumentException($"cannot save the state of a {optimizer.GetType().Name}.", nameof(optimizer));
            writer.Flush();
        });
    }

    /// <summary>The state alone, without reading the tensors (e.g. to build the model they belong to).</summary>
    public static CheckpointState ReadState(string path)
    {
        using var reader = Open(path);
        return ReadHeader(reader, path);
    }

    /// <summary>Loads the model's (and, when given, the optimizer's) tensors; returns the state.</summary>
    public static CheckpointState Restore(string path, nn.Module model, optim.Optimizer? optimizer = null)
    {
        using var reader = Open(path);
        var state = ReadHeader(reader, path);
        try
        {
            model.load(reader, strict: true);
            bool hasOptimizer = reader.ReadBoolean();
            if (optimizer is OptimizerHelper helper)
            {
                if (!hasOptimizer)
                    throw new InvalidDataException("it holds no optimizer state, so training cannot resume from it.");
                helper.load_state_dict(reader);
            }
        }
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or FormatException or InvalidOperationException)
        {
            throw new DataFormatException(path, $"cannot be loaded into a {state.Options.Model} {Trainer.ConvDescription(state.Options)}: {e.Message}", inner: e);
        }
        return state;
    }

    private static BinaryReader Open(string path)
    {
        if (!File.Exists(path))
            throw new DataFormatException(path, "the checkpoint file does not exist.");
        return new BinaryReader(File.OpenRead(path), Encoding.UTF8);
    }

    private static CheckpointState ReadHeader(BinaryReader reader, string path)
    {
        try
        {
            var magic = reader.ReadBytes(Magic.Length);
            if (!magic.AsSpan().SequenceEqual(Magic))
                throw new InvalidDataException("it does not start with a HetConv checkpoint's magic number; it is not a checkpoint written by hetconv train.");
            int version = reader.ReadInt32();
            if (version != FormatVersion)
                throw new InvalidDataException($"checkpoint format {version}; this build reads format {FormatVersion}.");
            int length = reader.ReadInt32();
            if (length <= 0 || length > reader.BaseStream.Length - reader.BaseStream.Position)
                throw new InvalidDataException($"its header claims {length} bytes of metadata; the file is truncated or corrupt.");
            return JsonSerializer.Deserialize<CheckpointState>(reader.ReadBytes(length), TrainingOptions.Json)
                ?? throw new InvalidDataException("its metadata is empty.");
        }
        catch (Exception e) when (e is IOException or InvalidDataException or JsonException)
        {
            throw new DataFormatException(path, $"is not a readable checkpoint: {e.Message}", inner: e);
        }
    }
}
