using System.Reflection;
using System.Text.RegularExpressions;

namespace HetConv.Tests.Architecture;

/// <summary>
/// Keeps the layers a reader sees in the project layout: the core library (HetConv) depends on TorchSharp alone;
/// HetConv.Training (data, training, benchmarks, plots) sits on it; the command line on top. Within the sources,
/// the namespaces' use of each other has no cycle and never reaches up the order below.
/// </summary>
public sealed class LayeringTests
{
    // Lowest first: a namespace may use those before it, never those after it.
    private static readonly string[] Order =
    [
        "Runtime", "Layers", "Models", "Conversion", "Profiling",                 // core: HetConv.dll
        "Files", "Plotting", "Data", "Training", "Studies", "Benchmarking",        // HetConv.Training.dll
        "Interop",                                                                 // HetConv.Interop.dll
        "Cli",                                                                     // hetconv
    ];

    [Fact]
    public void CoreAssemblyReferencesOnlyTorchSharpAndTheRuntime()
    {
        var core = typeof(HetConv.Layers.HetConv2d).Assembly;
        var foreign = core.GetReferencedAssemblies().Select(a => a.Name!)
            .Where(n => n != "TorchSharp" && !n.StartsWith("System", StringComparison.Ordinal)
                        && n != "netstandard" && n != "mscorlib")
            .ToArray();
        Assert.True(foreign.Length == 0, $"HetConv.dll references {string.Join(", ", foreign)}");
    }

    [Fact]
    public void TrainingAssemblySitsOnTheCoreAndBelowTheCommandLine()
    {
        var training = typeof(HetConv.Training.Trainer).Assembly;
        var names = training.GetReferencedAssemblies().Select(a => a.Name!).ToArray();
        Assert.Contains("HetConv", names);
        Assert.DoesNotContain(names, n => n.StartsWith("HetConv.Cli", StringComparison.Ordinal)
                                          || n.StartsWith("System.CommandLine", StringComparison.Ordinal)
                                          || n.StartsWith("Spectre", StringComparison.Ordinal));
    }

    [Fact]
    public void NamespacesOnlyUseThoseBelowThem()
    {
        var uses = NamespaceUses();
        Assert.True(uses.Count >= 8, $"found only {uses.Count} namespaces under src/: is the source tree where expected?");
        var upward = new List<string>();
        foreach (var (from, targets) in uses)
        {
            int level = Level(from);
            foreach (var (to, file) in targets)
                if (Level(to) > level)
                    upward.Add($"{from} uses {to} ({file})");
        }
        Assert.True(upward.Count == 0, "namespaces reaching up:\n" + string.Join("\n", upward));
    }

    [Fact]
    public void TheCheckSeesAnUpwardUse()
    {
        // The rule above must be able to fail: the Training namespace does use Data, which sits below it.
        var uses = NamespaceUses();
        Assert.Contains(uses["Training"], u => u.Namespace == "Data");
        Assert.True(Level("Data") < Level("Training"));
        Assert.True(Level("Layers") < Level("Data"));
    }

    private static int Level(string area)
    {
        int i = Array.IndexOf(Order, area);
        Assert.True(i >= 0, $"namespace HetConv.{area} has no place in the layer order: add it to {nameof(Order)}");
        return i;
    }

    private static readonly Regex NamespaceLine = new(@"^namespace HetConv\.(\w+)", RegexOptions.Multiline);
    private static readonly Regex UsingLine = new(@"^using (?:static )?(?:\w+ = )?HetConv\.(\w+)", RegexOptions.Multiline);
    private static readonly Regex Qualified = new(@"\bHetConv\.(Runtime|Layers|Models|Conversion|Profiling|Files|Plotting|Data|Training|Studies|Benchmarking|Interop|Cli)\.");

    /// <summary>For each area (HetConv.X), the other areas its files name in usings or qualified names.</summary>
    private static Dictionary<string, List<(string Namespace, string File)>> NamespaceUses()
    {
        var src = Path.Combine(RepositoryRoot(), "src");
        var uses = new Dictionary<string, List<(string, string)>>();
        foreach (var file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories))
        {
            if (file.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
                || file.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}"))
                continue;
            // Comments may point anywhere (a <see cref> up the layers is documentation, not a dependency).
            string text = string.Join('\n', File.ReadLines(file).Where(l => !l.TrimStart().StartsWith("//", StringComparison.Ordinal)));
            var ns = NamespaceLine.Match(text);
            if (!ns.Success) continue;
            string from = ns.Groups[1].Value;
            if (!uses.TryGetValue(from, out var list)) uses[from] = list = [];
            var named = UsingLine.Matches(text).Concat(Qualified.Matches(text)).Select(m => m.Groups[1].Value);
            foreach (var to in named.Distinct())
                if (to != from) list.Add((to, Path.GetRelativePath(src, file)));
        }
        return uses;
    }

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "HetConv.slnx")))
                return dir.FullName;
        throw new InvalidOperationException($"no HetConv.slnx above {AppContext.BaseDirectory}");
    }
}
