namespace HetConv.Files;

/// <summary>
/// A write-only stream over another that it never closes: the base of streams that watch or alter what is
/// written on its way to a file (a checksum, an injected fault), leaving the file to its owner to flush and close.
/// </summary>
public class PassThroughWriteStream(Stream inner) : Stream
{
    protected Stream Inner => inner;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => inner.Length;
    public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
    public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);
}
