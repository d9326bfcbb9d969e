using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace HetConv.Tests.Packaging;

/// <summary>
/// What users install: the hetconv tool from a feed into an empty folder, and the HetConv library package in a new
/// console project. Slow (each carries or copies libtorch, about 500 MB): filter with Category!=Packaging.
/// </summary>
[Trait("Category", "Packaging")]
public sealed partial class PackageTests(LocalFeed feed) : IClassFixture<LocalFeed>
{
    private static readonly TimeSpan Step = TimeSpan.FromMinutes(10);

    [Fact]
    public void ToolInstalledFromTheFeedDescribesALayer()
    {
        string tools = feed.NewFolder("tools");
        // Only the feed: the tool package holds everything it runs on, so nothing may come from elsewhere.
        string config = WriteNuGetConfig(feed.NewFolder("tool-config"), clearOtherSources: true, packagesFolder: null);
        DotnetCommand.Succeed(tools, Step, "tool", "install", "--tool-path", tools, "--configfile", config,
            "HetConv.Cli", "--version", feed.Version);

        // The command loads libtorch through TorchSharp's libLibTorchSharp.so: on Debian 12 it loads only if the
        // package's copy was patched (see build/WeakenMissingGlibcxxVersion.cs).
        var (code, output) = DotnetCommand.Run(Path.Combine(tools, "hetconv"), tools, Step, "layer", "--in", "16", "--out", "16", "--part", "4");

        Assert.True(code == 0, $"hetconv layer exited with {code}:\n{output}");
        Assert.Contains("HetConv2d(16, 16, kernel_size=3, part=4", output);
        // 4 of 16 kernels per filter are 3x3: 16 (4 * 9 + 12) = 768 weights against 16 * 16 * 9 = 2,304.
        Assert.Contains("768 (2,304)", output);
        Assert.Contains("3.00x fewer", output);
    }

    [Fact]
    public void NewConsoleProjectRunsAHetConv2dFromTheLibraryPackage()
    {
        string folder = feed.NewFolder("consumer");
        DotnetCommand.Succeed(folder, Step, "new", "console", "--name", "Consumer", "--output", folder);
        // The machine's own sources (from its user-level NuGet.Config) stay; the feed is added. A fresh packages
        // folder keeps this version of HetConv out of the machine's cache, where a later, changed build of the
        // same version would find it stale; the machine's cache still serves TorchSharp and libtorch unpacked.
        // (Outside the project's folder, whose every .cs file the project compiles.)
        WriteNuGetConfig(folder, clearOtherSources: false, packagesFolder: feed.NewFolder("consumer-packages"));
        DotnetCommand.Succeed(folder, Step, "add", "package", "HetConv", "--version", feed.Version);
        // The README's own example, as a user would paste it, then the shape it leaves in y.
        File.WriteAllText(Path.Combine(folder, "Program.cs"), ReadmeExample() + """

            Console.WriteLine($"output shape: [{string.Join(", ", y.shape)}]");
            """);

        // Hard links instead of copies of libtorch into bin/ (the fix's patched file is written anew, not in place).
        string output = DotnetCommand.Succeed(folder, Step, "run", "-c", "Release", "-p:CreateHardLinksForCopyLocalIfPossible=true");

        // A 3x3 convolution with padding 1 at stride 2 halves 32x32.
        Assert.Contains("output shape: [8, 128, 16, 16]", output);
    }

    [Fact]
    public void PackagesSayWhatTheyAreAndCarryTheFix()
    {
        var library = Nuspec(feed.Package("HetConv"), out var libraryFiles);
        Assert.Equal("HetConv", Metadata(library, "id"));
        Assert.Equal("MIT", Metadata(library, "license"));
        Assert.Equal("README.md", Metadata(library, "readme"));
        Assert.False(string.IsNullOrWhiteSpace(Metadata(library, "description")));
        Assert.Contains("buildTransitive/HetConv.targets", libraryFiles);
        Assert.Contains("buildTransitive/WeakenMissingGlibcxxVersion.cs", libraryFiles);
        Assert.Contains("README.md", libraryFiles);
        Assert.Equal(new[] { "TorchSharp", "libtorch-cpu-linux-x64" }.Order(), Dependencies(library).Order());

        var training = Nuspec(feed.Package("HetConv.Training"), out _);
        Assert.Contains("HetConv", Dependencies(training));
        Assert.DoesNotContain("ScottPlot", Dependencies(library));

        var tool = Nuspec(feed.Package("HetConv.Cli"), out var toolFiles);
        Assert.Contains(tool.Descendants().Where(e => e.Name.LocalName == "packageType"), t => (string?)t.Attribute("name") == "DotnetTool");
        string settings = toolFiles.Single(f => f.EndsWith("/DotnetToolSettings.xml", StringComparison.Ordinal));
        using var zip = ZipFile.OpenRead(feed.Package("HetConv.Cli"));
        using var reader = new StreamReader(zip.GetEntry(settings)!.Open());
        Assert.Contains("Name=\"hetconv\"", reader.ReadToEnd());
    }

    /// <summary>The first C# block of README.md: the HetConv2d example.</summary>
    private static string ReadmeExample()
    {
        var lines = File.ReadAllLines(Path.Combine(Architecture.LayeringTests.RepositoryRoot(), "README.md"));
        int start = Array.IndexOf(lines, "```csharp") + 1;
        Assert.True(start > 0, "README.md has no ```csharp block");
        var block = lines.Skip(start).TakeWhile(l => l != "```").ToArray();
        Assert.Contains(block, l => l.Contains("new HetConv2d(", StringComparison.Ordinal));
        return string.Join("\n", block);
    }

    private string WriteNuGetConfig(string folder, bool clearOtherSources, string? packagesFolder)
    {
        const string local = "hetconv-local";
        string path = Path.Combine(folder, "nuget.config");
        // With the machine's sources kept, HetConv's packages are mapped to the feed alone, so a package of the
        // same id and version elsewhere can never be taken instead; everything else comes from where it did.
        string[] machineSources = clearOtherSources ? [] : MachineSources(folder);
        var config = new XElement("configuration",
            packagesFolder is null ? null : new XElement("config", Add("globalPackagesFolder", packagesFolder)),
            new XElement("packageSources", clearOtherSources ? new XElement("clear") : null, Add(local, feed.Directory)),
            packagesFolder is null ? null : new XElement("fallbackPackageFolders", Add("machine", MachinePackagesFolder())),
            machineSources.Length == 0 ? null : new XElement("packageSourceMapping",
                new XElement("packageSource", new XAttribute("key", local), Pattern("HetConv"), Pattern("HetConv.*")),
                machineSources.Select(source => new XElement("packageSource", new XAttribute("key", source), Pattern("*")))));
        new XDocument(config).Save(path);
        return path;

        static XElement Add(string key, string value) => new("add", new XAttribute("key", key), new XAttribute("value", value));
        static XElement Pattern(string pattern) => new("package", new XAttribute("pattern", pattern));
    }

    /// <summary>The names of the NuGet sources this machine's configuration enables.</summary>
    private static string[] MachineSources(string folder) =>
        DotnetCommand.Succeed(folder, Step, "nuget", "list", "source").Split('\n')
            .Select(line => SourceLine().Match(line.TrimEnd('\r')))
            .Where(m => m.Success).Select(m => m.Groups[1].Value).ToArray();

    [GeneratedRegex(@"^\s+\d+\.\s+(.+) \[Enabled\]$")]
    private static partial Regex SourceLine();

    private static string MachinePackagesFolder()
    {
        string listing = DotnetCommand.Succeed(Path.GetTempPath(), Step, "nuget", "locals", "global-packages", "--list");
        return listing.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("global-packages:", StringComparison.Ordinal))
            ["global-packages:".Length..].Trim();
    }

    private static XElement Nuspec(string package, out List<string> files)
    {
        using var zip = ZipFile.OpenRead(package);
        files = zip.Entries.Select(e => e.FullName).ToList();
        var entry = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal) && !e.FullName.Contains('/'));
        using var stream = entry.Open();
        return XElement.Load(stream);
    }

    private static string? Metadata(XElement nuspec, string name) =>
        nuspec.Descendants().FirstOrDefault(e => e.Name.LocalName == name)?.Value;

    private static string[] Dependencies(XElement nuspec) =>
        nuspec.Descendants().Where(e => e.Name.LocalName == "dependency").Select(e => (string)e.Attribute("id")!).ToArray();
}
