using System.Reflection;
using System.Text.Json.Serialization;

namespace HetConv.Training;

/// <summary>
/// The shapes of learning-rate schedule the trainer knows. Each has one name, the same on the command line and
/// in config.json: <see cref="ScheduleKinds.Names"/>.
/// </summary>
public enum ScheduleKind
{
    /// <summary>The same rate throughout.</summary>
    [JsonStringEnumMemberName("constant")]
    Constant,

    /// <summary>Multiply by gamma every <c>StepEpochs</c> epochs (the paper's VGG-16: x0.1 every 50).</summary>
    [JsonStringEnumMemberName("step")]
    Step,

    /// <summary>Multiply by gamma at each milestone epoch (He et al.'s ResNets: x0.1 at epochs 82 and 123 of 164).</summary>
    [JsonStringEnumMemberName("multistep")]
    MultiStep,

    /// <summary>Cosine annealing from the base rate to zero over the run, per batch.</summary>
    [JsonStringEnumMemberName("cosine")]
    Cosine,

    /// <summary>One cycle: linear warm-up from base/25 to the base rate, then cosine annealing to base/250000.</summary>
    [JsonStringEnumMemberName("onecycle")]
    OneCycle,
}

public static class ScheduleKinds
{
    /// <summary>Each schedule's one name, as <c>--schedule</c> takes it and config.json writes it.</summary>
    public static IReadOnlyDictionary<ScheduleKind, string> Names { get; } = Enum.GetValues<ScheduleKind>().ToDictionary(
        kind => kind, kind => typeof(ScheduleKind).GetField(kind.ToString())!.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()!.Name);

    public static string Name(this ScheduleKind kind) => Names[kind];

    /// <summary>The schedule of that name (any case); an <see cref="ArgumentException"/> listing the names otherwise.</summary>
    public static ScheduleKind Parse(string name) =>
        Names.FirstOrDefault(p => p.Value.Equals(name.Trim(), StringComparison.OrdinalIgnoreCase)) is { Value: not null } found
            ? found.Key
            : throw new ArgumentException($"unknown schedule '{name}'; use {string.Join(", ", Names.Values)}.");
}
