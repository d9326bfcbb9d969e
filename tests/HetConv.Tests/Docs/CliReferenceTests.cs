using System.Text.RegularExpressions;
using HetConv.Tests.Architecture;
using HetConv.Tests.Cli;

namespace HetConv.Tests.Docs;

/// <summary>
/// docs/cli.md against the built command's <c>--help</c>: every command and option documented, nothing documented
/// that does not exist, and every default stated as the code has it. Every <c>hetconv</c> command line written in
/// README.md or docs/ uses only options its command has.
/// </summary>
public sealed partial class CliReferenceTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    [Fact]
    public void EveryCommandHasASectionAndEverySectionACommand()
    {
        var documented = Reference().Keys.Order().ToArray();
        Assert.NotEmpty(documented);
        Assert.Equal(Commands().Order().ToArray(), documented);
    }

    [Theory]
    [InlineData("layer")]
    [InlineData("flops")]
    [InlineData("tables")]
    [InlineData("train")]
    [InlineData("study")]
    [InlineData("eval")]
    [InlineData("bench")]
    [InlineData("data")]
    public void OptionsAndDefaultsAreAsHelpPrintsThem(string command)
    {
        var help = Help(command);
        Assert.True(Reference().TryGetValue(command, out var rows), $"docs/cli.md has no section `hetconv {command}`");

        var helpNames = help.Select(o => o.Names).ToArray();
        var docNames = rows.Select(r => r.Names).ToArray();
        foreach (var names in helpNames)
            Assert.True(docNames.Any(d => d.SetEquals(names)), $"hetconv {command} --help has {string.Join(", ", names)}; docs/cli.md does not document it (with exactly those aliases)");
        foreach (var names in docNames)
            Assert.True(helpNames.Any(h => h.SetEquals(names)), $"docs/cli.md documents {string.Join(", ", names)} for hetconv {command}; --help has no such option (with exactly those aliases)");

        foreach (var row in rows)
        {
            var option = help.Single(o => o.Names.SetEquals(row.Names));
            string where = $"hetconv {command} {option.Names.OrderByDescending(n => n.Length).First()}";
            if (option.Required)
                Assert.True(row.Default == "required", $"{where} is required; docs/cli.md says '{row.Default}'");
            else if (option.Default is { } printed)
                Assert.True(row.Default == $"`{printed}`", $"{where}: --help prints [default: {printed}]; docs/cli.md says '{row.Default}'");
            else if (option.ProseDefault is { } prose)
                Assert.True(row.Default.Length > 0 && prose.StartsWith(Plain(row.Default), StringComparison.OrdinalIgnoreCase),
                    $"{where}: --help says 'default: {prose}'; docs/cli.md says '{row.Default}'");
            else
                Assert.True(row.Default.Length == 0, $"{where}: --help states no default; docs/cli.md says '{row.Default}'");
        }
    }

    [Fact]
    public void CommandLinesInTheDocsUseOptionsTheirCommandHas()
    {
        var commands = Commands();
        var helps = commands.ToDictionary(c => c, c => Help(c).SelectMany(o => o.Names).ToHashSet());
        var problems = new List<string>();
        int lines = 0;
        foreach (var (file, line) in DocumentedCommandLines())
        {
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length < 2 || words[1].StartsWith('-') || words[1].StartsWith('<')) continue;
            lines++;
            if (!helps.TryGetValue(words[1], out var options))
            {
                problems.Add($"{file}: '{line}': no command {words[1]}");
                continue;
            }
            foreach (var word in words.Skip(2).TakeWhile(w => w != "#").Where(w => w.StartsWith('-')))
                if (!options.Contains(word.Split('=')[0]) && word is not ("--help" or "-h" or "-?"))
                    problems.Add($"{file}: '{line}': hetconv {words[1]} has no option {word}");
        }
        Assert.True(lines >= 10, $"found only {lines} hetconv command lines in README.md and docs/");
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void TheMainJobIsDescribedWithTrainsDefaults()
    {
        var train = Help("train");
        string Default(string name) => train.Single(o => o.Names.Contains(name)).Default!;
        string root = LayeringTests.RepositoryRoot();
        string readme = File.ReadAllText(Path.Combine(root, "README.md"));
        string training = File.ReadAllText(Path.Combine(root, "docs", "training.md")).ReplaceLineEndings(" ");

        Assert.Contains($"in {Default("--epochs")} epochs", readme);
        Assert.Contains($"SGD with Nesterov momentum {Default("--momentum")}, weight decay {Default("--weight-decay")}, " +
            $"batch {Default("--batch-size")}, {Default("--epochs")} epochs", training);
        double warmup = double.Parse(Default("--warmup"), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"to {Default("--lr")} over the first {100 * warmup:0}% of the steps", training);
        Assert.Contains($"seed {Default("--seed")} for the initialisation", training);
        Assert.Equal("onecycle", Default("--schedule"));
        Assert.Equal("resnet20", Default("--model"));
    }

    // ---- --help

    private sealed record HelpOption(HashSet<string> Names, bool Required, string? Default, string? ProseDefault);

    private static string[] Commands()
    {
        var (code, output, error) = CliProcess.Run(Timeout, "--help");
        Assert.True(code == 0, $"hetconv --help exited with {code}: {error}");
        var commands = Section(output, "Commands:").Select(l => l.Trim().Split(' ')[0]).ToArray();
        Assert.NotEmpty(commands);
        return commands;
    }

    private static List<HelpOption> Help(string command)
    {
        var (code, output, error) = CliProcess.Run(Timeout, command, "--help");
        Assert.True(code == 0, $"hetconv {command} --help exited with {code}: {error}");
        var options = new List<HelpOption>();
        foreach (var entry in Section(output, "Options:"))
        {
            var match = OptionLine().Match(entry);
            Assert.True(match.Success, $"hetconv {command} --help: cannot read the option line '{entry}'");
            var names = match.Groups["names"].Value.Split(',', StringSplitOptions.TrimEntries).ToHashSet();
            if (names.Contains("--help")) continue;
            string text = match.Groups["text"].Value;
            var printed = PrintedDefault().Match(text);
            var prose = ProseDefault().Match(text);
            options.Add(new HelpOption(names, match.Groups["required"].Success,
                printed.Success ? printed.Groups[1].Value : null,
                prose.Success ? prose.Groups[1].Value : null));
        }
        Assert.NotEmpty(options);
        return options;
    }

    /// <summary>The entries under a heading of the help text, each with its wrapped continuation lines joined.</summary>
    private static List<string> Section(string help, string heading)
    {
        var entries = new List<string>();
        bool inside = false;
        foreach (var line in help.Split('\n').Select(l => l.TrimEnd('\r')))
        {
            if (line == heading) { inside = true; continue; }
            if (!inside) continue;
            if (line.Length == 0 && entries.Count == 0) continue;
            if (!line.StartsWith("  ", StringComparison.Ordinal)) break;
            // An entry starts two spaces in; a wrapped description goes on further in.
            if (line.StartsWith("   ", StringComparison.Ordinal) && entries.Count > 0) entries[^1] += " " + line.Trim();
            else entries.Add(line.Trim());
        }
        return entries;
    }

    [GeneratedRegex(@"^(?<names>-[^<\s]*(?:, -[^<\s]*)*)(?: <[^>]+>)?(?<required> \(REQUIRED\))?(?:\s{2,}(?<text>.*))?$")]
    private static partial Regex OptionLine();

    [GeneratedRegex(@"\[default: ([^\]]*)\]")]
    private static partial Regex PrintedDefault();

    [GeneratedRegex(@"default:? ([^)\]]*)", RegexOptions.IgnoreCase)]
    private static partial Regex ProseDefault();

    // ---- docs

    private sealed record Row(HashSet<string> Names, string Default);

    /// <summary>docs/cli.md: per <c>## `hetconv X`</c> section, the rows of its options table.</summary>
    private static Dictionary<string, List<Row>> Reference()
    {
        var sections = new Dictionary<string, List<Row>>();
        List<Row>? current = null;
        foreach (var line in File.ReadLines(Path.Combine(LayeringTests.RepositoryRoot(), "docs", "cli.md")))
        {
            var heading = SectionHeading().Match(line);
            if (heading.Success)
            {
                sections[heading.Groups[1].Value] = current = [];
                continue;
            }
            if (current is null || !line.StartsWith("| `-", StringComparison.Ordinal)) continue;
            var cells = line.Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            var names = Regex.Matches(cells[0], "`(-[^`]+)`").Select(m => m.Groups[1].Value).ToHashSet();
            current.Add(new Row(names, cells[1]));
        }
        return sections;
    }

    [GeneratedRegex(@"^## `hetconv ([\w-]+)`$")]
    private static partial Regex SectionHeading();

    /// <summary>A default written in words, as --help would print it: no backticks, no escapes.</summary>
    private static string Plain(string cell) => cell.Replace("`", "").Replace("\\", "");

    /// <summary>Every `hetconv ...` in README.md and docs/*.md: lines of code blocks, and inline code spans.</summary>
    private static IEnumerable<(string File, string Line)> DocumentedCommandLines()
    {
        string root = LayeringTests.RepositoryRoot();
        var files = new[] { Path.Combine(root, "README.md") }.Concat(Directory.GetFiles(Path.Combine(root, "docs"), "*.md"));
        foreach (var file in files)
        {
            string name = Path.GetRelativePath(root, file);
            bool inBlock = false;
            foreach (var line in File.ReadLines(file))
            {
                if (line.StartsWith("```", StringComparison.Ordinal)) { inBlock = !inBlock; continue; }
                if (inBlock)
                {
                    if (line.StartsWith("hetconv ", StringComparison.Ordinal)) yield return (name, line.Trim());
                    continue;
                }
                foreach (Match span in Regex.Matches(line, "`(hetconv [^`]+)`"))
                    yield return (name, span.Groups[1].Value);
            }
        }
    }
}
