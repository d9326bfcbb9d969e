using System.Runtime.ExceptionServices;

namespace HetConv.Data;

/// <summary>Parallel loops over images whose failures surface as the exception an image threw, not an AggregateException.</summary>
internal static class Workers
{
    public static void For(int count, int workers, Action<int> body, CancellationToken cancel = default)
    {
        try
        {
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, workers), CancellationToken = cancel }, body);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count >= 1)
        {
            ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
    }
}
