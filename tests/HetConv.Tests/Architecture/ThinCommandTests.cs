namespace HetConv.Tests.Architecture;

/// <summary>
/// A command parses, calls one library entry point and renders: its Create method (the options and the call)
/// stays short enough to read at a glance, and no source line runs on past what a reader sees without scrolling.
/// </summary>
public sealed class ThinCommandTests
{
    private const int MaxCreateLines = 45;
    private const int MaxLineLength = 200;

    public static TheoryData<string> CommandFiles()
    {
        var data = new TheoryData<string>();
        var dir = Path.Combine(LayeringTests.RepositoryRoot(), "src", "HetConv.Cli", "Commands");
        foreach (var file in Directory.EnumerateFiles(dir, "*Command.cs").Order())
            data.Add(Path.GetFileName(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(CommandFiles))]
    public void Create_is_short(string file)
    {
        var lines = File.ReadAllLines(Path.Combine(LayeringTests.RepositoryRoot(), "src", "HetConv.Cli", "Commands", file));
        int start = Array.FindIndex(lines, l => l.Contains(" Create(", StringComparison.Ordinal) && l.Contains("static", StringComparison.Ordinal));
        Assert.True(start >= 0, $"{file} has no static Create method");
        int length = MethodLength(lines, start);
        Assert.True(length <= MaxCreateLines, $"{file}: Create is {length} lines (at most {MaxCreateLines}): move rules into the library");
    }

    [Fact]
    public void No_source_line_is_overlong()
    {
        var src = Path.Combine(LayeringTests.RepositoryRoot(), "src");
        var sep = Path.DirectorySeparatorChar;
        var overlong = Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{sep}obj{sep}") && !f.Contains($"{sep}bin{sep}"))
            .SelectMany(f => File.ReadLines(f).Select((line, i) => (f, i, line.Length)))
            .Where(x => x.Length > MaxLineLength)
            .Select(x => $"{Path.GetRelativePath(src, x.f)}:{x.i + 1} ({x.Length} characters)")
            .ToArray();
        Assert.True(overlong.Length == 0, $"lines over {MaxLineLength} characters:\n" + string.Join("\n", overlong));
    }

    [Fact]
    public void The_length_check_counts_a_method_body()
    {
        string[] method = ["static Command Create()", "{", "    var x = new { A = 1 };", "    {", "    }", "    return c;", "}", "after"];
        Assert.Equal(7, MethodLength(method, 0));
    }

    /// <summary>Lines from the signature to the brace that closes the method's body.</summary>
    private static int MethodLength(string[] lines, int start)
    {
        int depth = 0;
        bool opened = false;
        for (int i = start; i < lines.Length; i++)
        {
            foreach (char c in lines[i])
            {
                if (c == '{') { depth++; opened = true; }
                else if (c == '}') depth--;
            }
            if (opened && depth == 0) return i - start + 1;
        }
        throw new InvalidOperationException("the method's body never closes");
    }
}
