using System.Text.Json;
using HetConv.Training;

namespace HetConv.Tests.Training;

public class RunDirectoryTests
{
    [Fact]
    public void Of_many_claims_at_once_on_a_new_directory_exactly_one_succeeds()
    {
        using var dir = new TempDirectory();
        for (int round = 0; round < 5; round++)
        {
            string run = Path.Combine(dir.Path, $"run{round}");
            int claimed = 0, refused = 0;
            using var start = new Barrier(8);
            var threads = Enumerable.Range(0, 8).Select(_ => new Thread(() =>
            {
                start.SignalAndWait();
                try
                {
                    RunDirectory.Claim(run);
                    Interlocked.Increment(ref claimed);
                }
                catch (RunDirectoryException e) when (e.InUse)
                {
                    Interlocked.Increment(ref refused);
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
            Assert.Equal((1, 7), (claimed, refused));
        }
    }

    [Fact]
    public void A_claimed_directory_is_refused_before_its_first_checkpoint()
    {
        using var dir = new TempDirectory();
        RunDirectory.Claim(dir.Path);
        Assert.True(RunDirectory.HoldsRun(dir.Path));
        var e = Assert.Throws<RunDirectoryException>(() => RunDirectory.Claim(dir.Path));
        Assert.True(e.InUse);
        Assert.Contains("already holds a run", e.Message);
    }

    [Fact]
    public void A_file_or_an_empty_name_is_no_run_directory()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("notes"), "x");
        Assert.Contains("is a file", Assert.Throws<RunDirectoryException>(() => RunDirectory.Claim(dir.File("notes"))).Message);
        Assert.Contains("empty", Assert.Throws<RunDirectoryException>(() => RunDirectory.Claim("")).Message);
        Assert.Equal("x", File.ReadAllText(dir.File("notes")));
    }

    [Fact]
    public void Resume_finds_the_run_from_its_directory_or_its_last_checkpoint_and_says_what_to_do_otherwise()
    {
        using var dir = new TempDirectory();
        string run = dir.File("run");
        RunDirectory.Claim(run);
        Assert.Contains("stopped before its first epoch finished", Assert.Throws<RunDirectoryException>(() => RunDirectory.ForResume(run)).Message);
        File.WriteAllText(Path.Combine(run, Trainer.LastCheckpoint), "");
        File.WriteAllText(Path.Combine(run, Trainer.BestCheckpoint), "");
        Assert.Equal(run, RunDirectory.ForResume(run));
        Assert.Equal(run, RunDirectory.ForResume(Path.Combine(run, Trainer.LastCheckpoint)));
        var e = Assert.Throws<RunDirectoryException>(() => RunDirectory.ForResume(Path.Combine(run, Trainer.BestCheckpoint)));
        Assert.Contains($"is a file; resume takes the run's directory, e.g. {run}", e.Message);
        Assert.Contains("no such run directory", Assert.Throws<RunDirectoryException>(() => RunDirectory.ForResume(dir.File("absent"))).Message);
    }

    [Fact]
    public void Default_name_is_model_conv_dataset_time()
    {
        var options = new TrainingOptions { Model = "resnet20", Part = "4", DataSet = "fashion-mnist" };
        Assert.Equal(Path.Combine("runs", "resnet20-P4-fashion-mnist-20260102-030405"), RunDirectory.DefaultPath(options, new DateTime(2026, 1, 2, 3, 4, 5)));
    }

    [Fact]
    public void Each_schedule_has_one_name_on_the_command_line_and_in_config_json()
    {
        foreach (var (kind, name) in ScheduleKinds.Names)
        {
            Assert.Equal(kind, ScheduleKinds.Parse(name));
            Assert.Equal($"\"{name}\"", JsonSerializer.Serialize(kind, TrainingOptions.Json));
            Assert.Equal(kind, JsonSerializer.Deserialize<ScheduleKind>($"\"{name}\"", TrainingOptions.Json));
        }
        Assert.Equal(Enum.GetValues<ScheduleKind>().Length, ScheduleKinds.Names.Count);
        Assert.Equal("onecycle", ScheduleKind.OneCycle.Name());
        Assert.Throws<ArgumentException>(() => ScheduleKinds.Parse("one_cycle"));
    }

    [Fact]
    public void The_default_part_is_four_for_hetconv_named_or_implied_and_none_otherwise()
    {
        Assert.Equal("4", TrainingOptions.PartFor(null, null));
        Assert.Equal("4", TrainingOptions.PartFor(" HetConv ", null));
        Assert.Null(TrainingOptions.PartFor("standard", null));
        Assert.Equal("8", TrainingOptions.PartFor("hetconv", "8"));
        Assert.Equal(TrainingOptions.DefaultPart, new TrainingOptions().Part);
    }
}
