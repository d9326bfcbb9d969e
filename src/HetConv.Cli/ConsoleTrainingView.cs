using System.Globalization;
using HetConv.Training;
using Spectre.Console;

namespace HetConv.Cli;

/// <summary>
/// Shows training on the console: on a terminal a live progress bar (epoch, batch, loss, accuracy, images/s,
/// ETA) and a line per finished epoch; when output is redirected only the line per epoch, since a live display
/// leaves sparse, partial lines in a log.
/// </summary>
internal sealed class ConsoleTrainingView : ITrainingObserver
{
    private ProgressContext? context;
    private ProgressTask? task;
    private int epochs;

    public static bool Interactive => !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Runs <paramref name="training"/> with this view attached (inside a live display on a terminal).</summary>
    public static T Show<T>(Func<ITrainingObserver, T> training)
    {
        if (!Interactive)
            return training(new ConsoleTrainingView());
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = 24 }, new PercentageColumn(),
                new RemainingTimeColumn())
            .Start(ctx => result = training(new ConsoleTrainingView { context = ctx }));
        return result;
    }

    public void Starting(int firstEpoch, int epochs, int batchesPerEpoch)
    {
        this.epochs = epochs;
        NewTask(firstEpoch, batchesPerEpoch);
    }

    public void BatchDone(int epoch, int batch, int batchesPerEpoch, double loss, double accuracy, double imagesPerSecond)
    {
        if (task is null) return;
        task.Value = batch;
        task.Description = Invariant($"epoch {epoch}/{epochs} {batch}/{batchesPerEpoch} loss {loss:F3} acc {100 * accuracy:F1}% {imagesPerSecond:F0} img/s");
    }

    public void Evaluating(int epoch)
    {
        if (task is not null) task.Description = $"epoch {epoch}/{epochs} testing...";
    }

    public void EpochDone(EpochMetrics m, int epochs)
    {
        string line = string.Create(CultureInfo.InvariantCulture,
            $"epoch {m.Epoch}/{epochs}  lr {m.LearningRate:G3}  train loss {m.TrainLoss:F4} acc {100 * m.TrainAccuracy:F2}%  " +
            $"test loss {m.TestLoss:F4} acc {100 * m.TestAccuracy:F2}%  {m.Seconds:F1} s  {m.ImagesPerSecond:F0} img/s");
        if (context is null)
        {
            Console.Out.WriteLine(line);
            Console.Out.Flush();
            return;
        }
        // Written through Spectre so the line lands above the live bar, which then starts the next epoch.
        AnsiConsole.WriteLine(line);
        task!.Value = task.MaxValue;
        task.StopTask();
        if (m.Epoch < epochs) NewTask(m.Epoch + 1, (int)task.MaxValue);
    }

    private void NewTask(int epoch, int batches)
    {
        if (context is null) return;
        task = context.AddTask($"epoch {epoch}/{epochs}", maxValue: batches);
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
