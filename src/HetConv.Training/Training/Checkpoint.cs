using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using HetConv.Data;
using HetConv.Files;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace HetConv.Training;

/// <summary>
/// A training checkpoint in one file: a magic number, the format version, the <see cref="CheckpointState"/> as
/// JSON, the model's state dict and optionally the optimizer's state (TorchSharp's binary formats), and last the
/// SHA-256 of every byte before it, so that damage anywhere (a flipped bit in a weight, a truncated copy) is
/// found before anything is loaded. Written atomically. Every way a file can fail to load is a
/// <see cref="DataFormatException"/> naming it.
/// </summary>
public static class Checkpoint
{
    private static readonly byte[] Magic = "HCNVCKPT"u8.ToArray();

    /// <summary>2: the trailing SHA-256. Format 1 had none and is refused rather than trusted.</summary>
    private const int FormatVersion = 2;

    private const int HashBytes = 32;

    public static void Save(string path, CheckpointState state, nn.Module model, optim.Optimizer? optimizer)
    {
        if (optimizer is not null and not OptimizerHelper)
            throw new ArgumentException($"cannot save the state of a {optimizer.GetType().Name}.", nameof(optimizer));
        AtomicFile.Write(path, file =>
        {
            using var hashing = new HashingStream(file);
            using (var writer = new BinaryWriter(hashing, Encoding.UTF8, leaveOpen: true))
            {
                writer.Write(Magic);
                writer.Write(FormatVersion);
                byte[] json = JsonSerializer.SerializeToUtf8Bytes(state, TrainingOptions.Json);
                writer.Write(json.Length);
                writer.Write(json);
                model.save(writer);
                writer.Write(optimizer is not null);
                (optimizer as OptimizerHelper)?.save_state_dict(writer);
            }
            file.Write(hashing.Hash());
        });
    }

    /// <summary>The state alone, without loading the tensors (e.g. to build the model they belong to).</summary>
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
        catch (Exception e) when (e is IOException or InvalidDataException or ArgumentException or FormatException or InvalidOperationException or IndexOutOfRangeException)
        {
            throw new DataFormatException(path, $"cannot be loaded into a {state.Options.Model} {Trainer.ConvDescription(state.Options)}: {e.Message}", inner: e);
        }
        return state;
    }

    private static BinaryReader Open(string path)
    {
        if (Directory.Exists(path))
            throw new DataFormatException(path, $"is a directory; give a checkpoint file in it, e.g. {Path.Combine(path, Trainer.LastCheckpoint)}.");
        if (!File.Exists(path))
            throw new DataFormatException(path, "the checkpoint file does not exist.");
        try
        {
            return new BinaryReader(File.OpenRead(path), Encoding.UTF8);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException(path, $"cannot be read: {e.Message}", inner: e);
        }
    }

    /// <summary>Checks the magic number, the version and the checksum, then reads the state.</summary>
    private static CheckpointState ReadHeader(BinaryReader reader, string path)
    {
        try
        {
            var magic = reader.ReadBytes(Magic.Length);
            if (!magic.AsSpan().SequenceEqual(Magic))
                throw new InvalidDataException("it does not start with a HetConv checkpoint's magic number; it is not a checkpoint written by hetconv train.");
            int version = reader.ReadInt32();
            if (version != FormatVersion)
                throw new InvalidDataException($"checkpoint format {version}; this build reads format {FormatVersion} (with a checksum) only.");
            VerifyChecksum(reader.BaseStream);
            int length = reader.ReadInt32();
            if (length <= 0 || length > reader.BaseStream.Length - HashBytes - reader.BaseStream.Position)
                throw new InvalidDataException($"its header claims {length} bytes of metadata; the file is corrupt.");
            return JsonSerializer.Deserialize<CheckpointState>(reader.ReadBytes(length), TrainingOptions.Json)
                ?? throw new InvalidDataException("its metadata is empty.");
        }
        catch (Exception e) when (e is IOException or InvalidDataException or JsonException)
        {
            throw new DataFormatException(path, $"is not a readable checkpoint: {e.Message}", inner: e);
        }
    }

    /// <summary>Hashes the whole file but its last 32 bytes and compares; leaves the stream where it was.</summary>
    private static void VerifyChecksum(Stream stream)
    {
        long position = stream.Position, body = stream.Length - HashBytes;
        if (body < position)
            throw new InvalidDataException("the file is truncated (shorter than its checksum).");
        stream.Position = 0;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        for (long left = body; left > 0;)
        {
            int n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (n == 0) throw new EndOfStreamException();
            hash.AppendData(buffer, 0, n);
            left -= n;
        }
        var stored = new byte[HashBytes];
        stream.ReadExactly(stored);
        if (!hash.GetHashAndReset().AsSpan().SequenceEqual(stored))
            throw new InvalidDataException("its SHA-256 checksum does not match its content: the file is damaged or truncated. Use another checkpoint (best.ckpt or last.ckpt) or train again.");
        stream.Position = position;
    }

    /// <summary>Passes writes through to the file and hashes them on the way.</summary>
    private sealed class HashingStream(Stream inner) : PassThroughWriteStream(inner)
    {
        private readonly IncrementalHash hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public byte[] Hash() => hash.GetHashAndReset();

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            hash.AppendData(buffer);
            Inner.Write(buffer);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) hash.Dispose();
            base.Dispose(disposing);
        }
    }
}
