namespace HetConv.Cli;

/// <summary>
/// Ctrl+C as a cancellation: the running epoch stops early and what is on disk stays the last finished epoch, where
/// the default (the process killed at once) could leave a checkpoint write half done.
/// </summary>
internal static class CtrlC
{
    public static CancellationToken Token()
    {
        var source = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            source.Cancel();
        };
        return source.Token;
    }
}
