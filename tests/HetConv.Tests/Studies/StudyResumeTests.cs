using System.Text.Json;
using HetConv.Studies;
using HetConv.Tests.Cli;
using HetConv.Training;

namespace HetConv.Tests.Studies;

public sealed class StudyResumeTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    private static string[] Arguments(string directory, params string[] schedule) => With(directory, "P1,P4", "256", schedule);

    private static string[] With(string directory, string variants, string trainLimit, params string[] schedule) =>
    [
        "study", "--variants", variants, "--seeds", "1", "--train-limit", trainLimit, "--test-limit", "64", "--batch-size", "32",
        "--threads", "1", "--out", directory, .. schedule,
    ];

    [Fact]
    public void Killed_during_the_second_variant_the_study_resumes_it_and_does_not_retrain_the_first()
    {
        using var dir = new TempDirectory();
        string study = dir.File("study");
        string[] args = Arguments(study, "--epochs", "3");
        string p1 = Path.Combine(study, Study.RunsDirectory, "P1-seed1"), p4 = Path.Combine(study, Study.RunsDirectory, "P4-seed1");
        using (var first = new CliProcess(args))
        {
            first.WaitForLine("[2/2] P4 seed 1", Timeout);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (!File.Exists(Path.Combine(p4, Trainer.LastCheckpoint)) && clock.Elapsed < Timeout && !first.HasExited) Thread.Sleep(20);
            first.Kill();
        }
        byte[] p1Checkpoint = File.ReadAllBytes(Path.Combine(p1, Trainer.LastCheckpoint));
        int done = Checkpoint.ReadState(Path.Combine(p4, Trainer.LastCheckpoint)).EpochsDone;
        Assert.InRange(done, 1, 2);
        var killedHistory = Checkpoint.ReadState(Path.Combine(p4, Trainer.LastCheckpoint)).History;
        Assert.False(File.Exists(Path.Combine(study, StudyOutputs.Report)));

        var again = CliProcess.Run(Timeout, args);
        Assert.True(again.ExitCode == 0, $"{again.Output}\n{again.Error}");
        Assert.Contains("[1/2] P1 seed 1: done already (3 epochs)", again.Output);
        Assert.Contains($"[2/2] P4 seed 1: resuming after epoch {done} of 3", again.Output);
        Assert.Equal(p1Checkpoint, File.ReadAllBytes(Path.Combine(p1, Trainer.LastCheckpoint)));
        var history = Checkpoint.ReadState(Path.Combine(p4, Trainer.LastCheckpoint)).History;
        Assert.Equal(3, history.Count);
        Assert.Equal(killedHistory, history.Take(done));   // the finished epochs were kept, not trained again
        Assert.True(File.Exists(Path.Combine(study, StudyOutputs.Report)));
    }

    [Fact]
    public void A_time_budget_fits_each_variants_epochs_to_its_measured_pace()
    {
        using var dir = new TempDirectory();
        string study = dir.File("study");
        var result = CliProcess.Run(Timeout, Arguments(study, "--budget-minutes", "0.15"));
        Assert.True(result.ExitCode == 0, $"{result.Output}\n{result.Error}");
        var plans = JsonSerializer.Deserialize<List<BudgetPlan>>(File.ReadAllText(Path.Combine(study, StudyBudget.PlanFile)), TrainingOptions.Json)!;
        Assert.Equal(["P1", "P4"], plans.Select(p => p.Variant).ToArray());
        Assert.False(Directory.Exists(Path.Combine(study, "probe")));
        foreach (var plan in plans)
        {
            Assert.True(plan.SecondsPerEpoch > 0 && plan.TrainImagesPerSecond > 0, plan.ToString());
            Assert.Equal(StudyBudget.EpochsThatFit(0.15 * 60, plan.SecondsPerEpoch), plan.Epochs);
            var summary = JsonSerializer.Deserialize<TrainingSummary>(
                File.ReadAllText(Path.Combine(study, Study.RunsDirectory, $"{plan.Variant}-seed1", Trainer.SummaryFile)), TrainingOptions.Json)!;
            Assert.Equal(plan.Epochs, summary.Epochs);
            Assert.Equal(plan.Epochs, summary.EpochsPlanned);
        }
        Assert.Contains("Budget plan", File.ReadAllText(Path.Combine(study, StudyOutputs.Report)));
    }

    [Fact]
    public void The_optimizer_options_reach_every_run_and_bind_the_study_directory()
    {
        using var dir = new TempDirectory();
        string study = dir.File("study");
        string[] optimizer = ["--epochs", "1", "--schedule", "multistep", "--milestones", "3,5", "--lr", "0.05", "--momentum", "0.8", "--nesterov", "false", "--wd", "0.0001"];
        var result = CliProcess.Run(Timeout, With(study, "P4", "64", optimizer));
        Assert.True(result.ExitCode == 0, $"{result.Output}\n{result.Error}");
        var config = JsonSerializer.Deserialize<TrainingOptions>(
            File.ReadAllText(Path.Combine(study, Study.RunsDirectory, "P4-seed1", Trainer.ConfigFile)), TrainingOptions.Json)!;
        Assert.Equal((ScheduleKind.MultiStep, 0.05, 0.8, false, 0.0001), (config.Schedule.Kind, config.Schedule.LearningRate, config.Momentum, config.Nesterov, config.WeightDecay));
        Assert.Equal([3, 5], config.Schedule.Milestones);

        var other = CliProcess.Run(Timeout, With(study, "P4", "64", [.. optimizer[..^2], "--wd", "0.0005"]));
        Assert.Equal(2, other.ExitCode);
        Assert.Contains("other settings", other.Error);
    }

    [Fact]
    public void Bad_requests_get_one_line_errors_and_change_nothing()
    {
        using var dir = new TempDirectory();
        string study = dir.File("study");
        static void OneLine((int ExitCode, string Output, string Error) r, string part)
        {
            Assert.True(r.ExitCode == 2, $"exit code {r.ExitCode}\n{r.Output}\n{r.Error}");
            Assert.StartsWith("error: ", r.Error);
            Assert.DoesNotContain('\n', r.Error.TrimEnd());
            Assert.Contains(part, r.Error);
        }
        OneLine(CliProcess.Run(Timeout, Arguments(study, "--epochs", "2", "--budget-minutes", "1")), "not both");
        OneLine(CliProcess.Run(Timeout, With(study, "P1,P3x", "64", "--epochs", "1")), "unknown variant 'P3x'");
        OneLine(CliProcess.Run(Timeout, With(study, "P1,P3", "64", "--epochs", "1")), "P3 cannot be built for resnet20");
        Assert.False(Directory.Exists(study));

        var made = CliProcess.Run(Timeout, With(study, "P4", "64", "--epochs", "1"));
        Assert.True(made.ExitCode == 0, made.Error);
        OneLine(CliProcess.Run(Timeout, With(study, "P4", "64", "--epochs", "2")), "other settings");
    }
}
