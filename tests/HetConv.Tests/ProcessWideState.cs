namespace HetConv.Tests;

/// <summary>
/// Tests that set or rely on process-wide state run apart from all others: torch's thread count (a kernel reads it
/// at each call), and torch's global random generator over a whole training run (another test seeding or drawing
/// from it meanwhile would change the run).
/// </summary>
[CollectionDefinition(nameof(ProcessWideState), DisableParallelization = true)]
public sealed class ProcessWideState;
