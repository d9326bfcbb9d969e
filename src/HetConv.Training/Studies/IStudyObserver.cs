using HetConv.Training;

namespace HetConv.Studies;

/// <summary>Where a study reports progress: each run's start (or that it is done already), then its epochs.</summary>
public interface IStudyObserver : ITrainingObserver
{
    /// <summary>Run <paramref name="index"/> of <paramref name="count"/>; <paramref name="epochsDone"/> of <paramref name="epochs"/> are on disk.</summary>
    void RunStarting(StudyRunKey run, int index, int count, int epochsDone, int epochs) { }

    /// <summary>A step of the study outside training (timing an epoch for the budget, measuring latency, writing the report).</summary>
    void Step(string description) { }
}

/// <summary>One run of a study: a variant and a seed, and its directory.</summary>
public sealed record StudyRunKey(string Variant, long Seed, string Directory)
{
    public override string ToString() => $"{Variant} seed {Seed}";
}
