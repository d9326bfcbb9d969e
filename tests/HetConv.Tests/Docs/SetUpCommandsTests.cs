using HetConv.Tests.Architecture;

namespace HetConv.Tests.Docs;

/// <summary>The README's two set-up commands: one runs the main job, one the tests, and CI runs the latter as written.</summary>
public sealed class SetUpCommandsTests
{
    [Fact]
    public void TheReadmeHasTwoCommandsAndCiRunsItsTestCommand()
    {
        string root = LayeringTests.RepositoryRoot();
        var commands = SetUpBlocks(File.ReadAllLines(Path.Combine(root, "README.md")));

        Assert.Equal(2, commands.Count);
        Assert.Equal("./setup.sh && dotnet run --project src/HetConv.Cli -c Release -- train", commands[0]);
        Assert.Equal("./setup.sh && dotnet test HetConv.slnx -c Release", commands[1]);
        var ci = File.ReadAllLines(Path.Combine(root, ".ci", "run")).Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();
        Assert.Equal(commands[1], ci[^1]);
        Assert.True(File.Exists(Path.Combine(root, "setup.sh")));
        // The project builds and runs on linux-x64 only (libtorch-cpu-linux-x64).
        Assert.True(OperatingSystem.IsLinux(), "these tests run on Linux");
        if (OperatingSystem.IsLinux())
            Assert.True(File.GetUnixFileMode(Path.Combine(root, "setup.sh")).HasFlag(UnixFileMode.UserExecute), "setup.sh is not executable");
    }

    /// <summary>The one-line sh blocks of the README's "Set-up" section.</summary>
    private static List<string> SetUpBlocks(string[] readme)
    {
        var commands = new List<string>();
        int start = Array.IndexOf(readme, "## Set-up");
        Assert.True(start >= 0, "README.md has no '## Set-up' section");
        for (int i = start + 1; i < readme.Length && !readme[i].StartsWith("## ", StringComparison.Ordinal); i++)
        {
            if (readme[i] != "```sh") continue;
            Assert.Equal("```", readme[i + 2]);
            commands.Add(readme[i + 1]);
            i += 2;
        }
        return commands;
    }
}
