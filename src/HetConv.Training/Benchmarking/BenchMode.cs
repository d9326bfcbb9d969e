namespace HetConv.Benchmarking;

public enum BenchMode
{
    /// <summary>Forward pass without autograd.</summary>
    Inference,

    /// <summary>Forward and backward pass (input and weight gradients).</summary>
    Training,
}
