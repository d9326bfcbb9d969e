namespace HetConv.Files;

/// <summary>
/// A fault injected into <see cref="AtomicFile"/> for the tests of kills and full disks, which cannot be timed
/// from outside a process: <c>HETCONV_WRITE_FAULT=NAME:N:pause</c> makes the N-th write of a file named NAME in
/// this process stop after its first 4 KiB and wait (so a test can kill the process in the middle of the write);
/// <c>NAME:N:full</c> makes it fail there as a full disk would. Unset, writes go straight to the file.
/// </summary>
internal static class WriteFault
{
    public const string Variable = "HETCONV_WRITE_FAULT";
    private const int AfterBytes = 4096;

    private static (string Name, int Nth, bool Pause)? Fault = Parse(Environment.GetEnvironmentVariable(Variable));
    private static int writes;

    /// <summary>Sets the fault (null: none) for this process, as the variable would, counting writes afresh.</summary>
    internal static void Inject(string? spec)
    {
        Fault = Parse(spec);
        writes = 0;
    }

    public static Stream Wrap(string path, Stream file)
    {
        if (Fault is not { } fault || Path.GetFileName(path) != fault.Name || Interlocked.Increment(ref writes) != fault.Nth)
            return new PassThroughWriteStream(file);
        return new Faulty(file, fault.Pause);
    }

    private static (string, int, bool)? Parse(string? text)
    {
        if (string.IsNullOrEmpty(text)) return null;
        var parts = text.Split(':');
        if (parts.Length != 3 || !int.TryParse(parts[1], out int nth) || parts[2] is not ("pause" or "full"))
            throw new InvalidOperationException($"{Variable}='{text}' must be NAME:N:pause or NAME:N:full.");
        return (parts[0], nth, parts[2] == "pause");
    }

    private sealed class Faulty(Stream inner, bool pause) : PassThroughWriteStream(inner)
    {
        private long written;

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            int room = (int)Math.Max(0, Math.Min(buffer.Length, AfterBytes - written));
            Inner.Write(buffer[..room]);
            written += room;
            if (room == buffer.Length) return;
            if (!pause)
                throw new IOException("No space left on device (injected by " + Variable + ")");
            Inner.Flush();
            Thread.Sleep(Timeout.Infinite);
        }
    }
}
