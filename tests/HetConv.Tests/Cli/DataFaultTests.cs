using System.Diagnostics;
using HetConv.Tests.Data;

namespace HetConv.Tests.Cli;

/// <summary>
/// Data that cannot be read, run through <c>hetconv train</c>: each fault is one line naming the file and what is
/// wrong with it, exit code 2, before any training and without a run directory.
/// </summary>
public class DataFaultTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(1);

    private static (int ExitCode, string Output, string Error) Train(TempDirectory dir, string data, string[]? prefix = null) =>
        CliProcess.RunUnder(prefix ?? Array.Empty<string>(), Timeout,
            "train", "--data", data, "--out", Path.Combine(dir.Path, "run"), "--epochs", "1", "--threads", "1");

    private static void AssertRefused((int ExitCode, string Output, string Error) r, TempDirectory dir, params string[] expected)
    {
        UsageErrorTests.AssertOneLineError(r, expected[0]);
        foreach (var e in expected.Skip(1)) Assert.Contains(e, r.Error);
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "run")), "a run directory was made for data that cannot be read");
    }

    private static string Images(TempDirectory dir) => dir.File("train-images-idx3-ubyte");

    [Fact]
    public void A_fifo_as_a_data_file_is_refused_without_waiting_for_a_writer()
    {
        using var dir = new TempDirectory();
        DataFiles.MnistDirectory(dir, train: 4, test: 2, gzip: false);
        File.Delete(Images(dir));
        using (var mkfifo = Process.Start("mkfifo", Images(dir))) mkfifo.WaitForExit();
        Assert.True(File.Exists(Images(dir)), "mkfifo made no FIFO");
        AssertRefused(Train(dir, dir.Path), dir, "train-images-idx3-ubyte: is not a regular file (a FIFO, socket or device)");
    }

    [Fact]
    public void A_symbolic_link_loop_is_named_as_one()
    {
        using var dir = new TempDirectory();
        DataFiles.MnistDirectory(dir, train: 4, test: 2, gzip: false);
        File.Delete(Images(dir));
        File.CreateSymbolicLink(Images(dir), Images(dir));
        AssertRefused(Train(dir, dir.Path), dir, "train-images-idx3-ubyte: is a symbolic link loop");
    }

    [Fact]
    public void A_directory_where_a_data_file_is_expected_is_named_as_one()
    {
        using var dir = new TempDirectory();
        DataFiles.MnistDirectory(dir, train: 4, test: 2, gzip: false);
        File.Delete(Images(dir));
        Directory.CreateDirectory(Images(dir));
        AssertRefused(Train(dir, dir.Path), dir, "train-images-idx3-ubyte: is a directory; it should be the IDX images file.");
    }

    [Fact]
    public void A_file_where_the_data_directory_is_expected_is_named_as_one()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("data"), "not a directory");
        AssertRefused(Train(dir, dir.File("data")), dir, "data: is a file, not a directory");
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void An_unreadable_data_file_is_named_with_the_permission_problem()
    {
        using var dir = new TempDirectory();
        DataFiles.MnistDirectory(dir, train: 4, test: 2, gzip: false);
        File.SetUnixFileMode(Images(dir), UnixFileMode.None);
        // Root reads a file whatever its mode, so as root the command runs as nobody; the test directory and the
        // built command are readable by everyone.
        string[] prefix = Environment.UserName == "root"
            ? new[] { "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups" }
            : Array.Empty<string>();
        // The run directory would go here: writable for whoever runs the command, so the data is what fails.
        File.SetUnixFileMode(dir.Path, (UnixFileMode)0b111_111_111);
        AssertRefused(Train(dir, dir.Path, prefix), dir, "train-images-idx3-ubyte: cannot be read: permission denied");
    }

    [Fact]
    public void Training_and_test_images_of_different_sizes_are_refused()
    {
        using var dir = new TempDirectory();
        DataFiles.MnistDirectory(dir, train: 4, test: 2, size: 8, gzip: false);
        File.WriteAllBytes(dir.File("t10k-images-idx3-ubyte"), DataFiles.IdxImages(2, 10, 10, DataFiles.Bytes(200, 3)));
        AssertRefused(Train(dir, dir.Path), dir, "holds 8x8 images, but", "t10k-images-idx3-ubyte holds 10x10; the training and test splits must have one image size.");
    }

    [Fact]
    public void A_bad_gzip_crc_is_reported_as_such()
    {
        using var dir = new TempDirectory();
        DataFiles.MnistDirectory(dir, train: 4, test: 2, gzip: true);
        string path = Images(dir) + ".gz";
        var bytes = File.ReadAllBytes(path);
        bytes[^8] ^= 0xFF;   // the trailer's CRC-32 (RFC 1952): the data still decompresses
        File.WriteAllBytes(path, bytes);
        AssertRefused(Train(dir, dir.Path), dir, "train-images-idx3-ubyte.gz: fails its gzip CRC check (stored 0x");
    }

    [Theory]
    [InlineData("", "the output directory is an empty path")]
    [InlineData("/proc/hetconv-train", "/proc/hetconv-train cannot be written: no new file can be made in /proc")]
    [InlineData("existing-file", "is a file, not a directory")]
    public void A_bad_out_is_refused_before_training(string output, string expected)
    {
        using var dir = new TempDirectory();
        DataFiles.MnistDirectory(dir, train: 4, test: 2, gzip: false);
        File.WriteAllText(dir.File("existing-file"), "keep");
        string path = output == "existing-file" ? dir.File(output) : output;
        var r = CliProcess.Run(Timeout, "train", "--data", dir.Path, "--out", path, "--epochs", "1", "--threads", "1");
        UsageErrorTests.AssertOneLineError(r, expected);
        Assert.DoesNotContain("Training", r.Output);
        Assert.Equal("keep", File.ReadAllText(dir.File("existing-file")));
    }
}
