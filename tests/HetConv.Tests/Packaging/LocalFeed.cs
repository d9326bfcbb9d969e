using System.Reflection;
using HetConv.Tests.Architecture;

namespace HetConv.Tests.Packaging;

/// <summary>
/// The repository's packages, made once by <c>dotnet pack HetConv.slnx</c> from the build the tests run on
/// (--no-build: the test run has just built every project) into a fresh folder used as a NuGet feed.
/// </summary>
public sealed class LocalFeed : IDisposable
{
    private readonly TempDirectory root = new();

    public LocalFeed()
    {
        Directory = Path.Combine(root.Path, "feed");
        string configuration = typeof(LocalFeed).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";
        DotnetCommand.Succeed(LayeringTests.RepositoryRoot(), TimeSpan.FromMinutes(10),
            "pack", "HetConv.slnx", "-c", configuration, "--no-build", "--no-restore", "-o", Directory,
            // The tool's publish step copies libtorch (450 MB) before zipping it: links instead of copies.
            "-p:CreateHardLinksForPublishFilesIfPossible=true");
        string library = System.IO.Directory.GetFiles(Directory, "HetConv.*.nupkg")
            .Select(Path.GetFileName).Single(f => char.IsDigit(f![8]))!;
        Version = library["HetConv.".Length..^".nupkg".Length];
    }

    public string Directory { get; }

    /// <summary>The version every package of the repository carries (read from the library package's name).</summary>
    public string Version { get; }

    public string Package(string id) => Path.Combine(Directory, $"{id}.{Version}.nupkg");

    /// <summary>A scratch folder beside the feed, deleted with it.</summary>
    public string NewFolder(string name)
    {
        string path = Path.Combine(root.Path, name);
        System.IO.Directory.CreateDirectory(path);
        return path;
    }

    public void Dispose() => root.Dispose();
}
