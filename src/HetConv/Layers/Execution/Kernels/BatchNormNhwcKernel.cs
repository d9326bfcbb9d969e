using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using HetConv.Runtime;

namespace HetConv.Layers.Execution.Kernels;

/// <summary>
/// Training-mode BatchNorm over NHWC data seen as [rows, C], AVX2 + FMA, in as few sweeps over memory as the
/// arithmetic allows: the statistics (one read), the normalisation with the residual addition and ReLU that follow
/// it in a residual block (one read, one write), and the backward pass as a reduction (one read of dY, the output and
/// the input) and an update (the same reads, one write). libtorch runs BatchNorm, the addition and ReLU as separate
/// operations, each a sweep of its own, forward and backward; at the small channel counts of CIFAR ResNets those
/// sweeps are a fifth of a HetConv network's training step, the work its convolutions' FLOPs do not shrink.
/// Rows are cut into more pieces than threads, taken as threads become free (a thread slowed by other load takes
/// fewer). Sums are taken in float over blocks of <see cref="BlockRows"/> rows and added up in double, per piece,
/// then in piece order: the results do not depend on which thread took which piece.
/// </summary>
[SkipLocalsInit]
internal static unsafe class BatchNormNhwcKernel
{
    private const int BlockRows = 64;
    private const int PiecesPerThread = 4;

    public static bool IsSupportedOnThisMachine => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>sum[c] = sum of x[r, c] over all rows, squares[c] = sum of x[r, c]^2.</summary>
    public static void Statistics(float* x, long rows, int channels, double* sum, double* squares, int threads) =>
        SumTwoTerms(new SquareTerms(x), rows, channels, sum, squares, threads);

    /// <summary>
    /// The backward reduction: gradSum[c] = sum of g, gradDot[c] = sum of g (x - mean[c]), where g is dY, zeroed
    /// where the forward output was clamped by ReLU when <paramref name="relu"/>.
    /// </summary>
    public static void BackwardSums(float* gradOutput, float* output, float* x, float* mean, bool relu, long rows, int channels,
        double* gradSum, double* gradDot, int threads)
    {
        if (relu) SumTwoTerms(new GradientTerms<MaskByOutput>(gradOutput, output, x, mean), rows, channels, gradSum, gradDot, threads);
        else SumTwoTerms(new GradientTerms<NoMask>(gradOutput, output, x, mean), rows, channels, gradSum, gradDot, threads);
    }

    /// <summary>output = x scale[c] + shift[c] (+ residual) (then ReLU).</summary>
    public static void Normalize(float* x, float* residual, float* output, float* scale, float* shift, bool relu,
        long rows, int channels, int threads)
    {
        var pass = new NormalizePass(x, residual, output, scale, shift, relu, channels);
        ForEachRowRange(rows, threads, (first, last) => pass.Run(first, last));
    }

    /// <summary>
    /// The backward update: gradInput = g a[c] - b[c] - (x - mean[c]) d[c], and gradResidual = g when not null
    /// (g as in <see cref="BackwardSums"/>).
    /// </summary>
    public static void BackwardInput(float* gradOutput, float* output, float* x, float* mean, float* a, float* b, float* d,
        bool relu, float* gradInput, float* gradResidual, long rows, int channels, int threads)
    {
        var pass = new BackwardInputPass(gradOutput, output, x, mean, a, b, d, relu, gradInput, gradResidual, channels);
        ForEachRowRange(rows, threads, (first, last) => pass.Run(first, last));
    }

    private readonly struct NormalizePass(float* x, float* residual, float* output, float* scale, float* shift, bool relu, int channels)
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(long first, long last)
        {
            for (long r = first; r < last; r++)
            {
                long row = r * channels;
                int c = 0;
                for (; c + 8 <= channels; c += 8)
                {
                    var v = Fma.MultiplyAdd(Avx.LoadVector256(x + row + c), Avx.LoadVector256(scale + c), Avx.LoadVector256(shift + c));
                    if (residual != null) v = Avx.Add(v, Avx.LoadVector256(residual + row + c));
                    if (relu) v = Avx.Max(v, Vector256<float>.Zero);
                    Avx.Store(output + row + c, v);
                }
                for (; c < channels; c++)
                {
                    float v = x[row + c] * scale[c] + shift[c];
                    if (residual != null) v += residual[row + c];
                    output[row + c] = relu ? MathF.Max(v, 0f) : v;
                }
            }
        }
    }

    private readonly struct BackwardInputPass(float* gradOutput, float* output, float* x, float* mean, float* a, float* b, float* d,
        bool relu, float* gradInput, float* gradResidual, int channels)
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(long first, long last)
        {
            for (long r = first; r < last; r++)
            {
                long row = r * channels;
                int c = 0;
                for (; c + 8 <= channels; c += 8)
                {
                    var g = Avx.LoadVector256(gradOutput + row + c);
                    if (relu) g = Avx.And(g, Avx.CompareGreaterThan(Avx.LoadVector256(output + row + c), Vector256<float>.Zero));
                    if (gradResidual != null) Avx.Store(gradResidual + row + c, g);
                    var centred = Avx.Subtract(Avx.LoadVector256(x + row + c), Avx.LoadVector256(mean + c));
                    var v = Fma.MultiplySubtract(g, Avx.LoadVector256(a + c), Avx.LoadVector256(b + c));
                    Avx.Store(gradInput + row + c, Fma.MultiplyAddNegated(centred, Avx.LoadVector256(d + c), v));
                }
                for (; c < channels; c++)
                {
                    float g = relu && !(output[row + c] > 0f) ? 0f : gradOutput[row + c];
                    if (gradResidual != null) gradResidual[row + c] = g;
                    gradInput[row + c] = g * a[c] - b[c] - (x[row + c] - mean[c]) * d[c];
                }
            }
        }
    }

    /// <summary>The two per-element terms a reduction sums, for 8 channels from <c>index</c> (or one, scalar).</summary>
    private interface ITwoTerms
    {
        (Vector256<float> First, Vector256<float> Second) At(long index, int channel);
        (float First, float Second) ScalarAt(long index, int channel);
    }

    private readonly struct SquareTerms(float* x) : ITwoTerms
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public (Vector256<float>, Vector256<float>) At(long index, int channel)
        {
            var v = Avx.LoadVector256(x + index);
            return (v, Avx.Multiply(v, v));
        }

        public (float, float) ScalarAt(long index, int channel) => (x[index], x[index] * x[index]);
    }

    private interface IReluMask
    {
        static abstract bool Enabled { get; }
    }

    private readonly struct MaskByOutput : IReluMask
    {
        public static bool Enabled => true;
    }

    private readonly struct NoMask : IReluMask
    {
        public static bool Enabled => false;
    }

    private readonly struct GradientTerms<TMask>(float* gradOutput, float* output, float* x, float* mean) : ITwoTerms
        where TMask : struct, IReluMask
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public (Vector256<float>, Vector256<float>) At(long index, int channel)
        {
            var g = Avx.LoadVector256(gradOutput + index);
            if (TMask.Enabled) g = Avx.And(g, Avx.CompareGreaterThan(Avx.LoadVector256(output + index), Vector256<float>.Zero));
            var centred = Avx.Subtract(Avx.LoadVector256(x + index), Avx.LoadVector256(mean + channel));
            return (g, Avx.Multiply(g, centred));
        }

        public (float, float) ScalarAt(long index, int channel)
        {
            float g = TMask.Enabled && !(output[index] > 0f) ? 0f : gradOutput[index];
            return (g, g * (x[index] - mean[channel]));
        }
    }

    /// <summary>first[c] and second[c]: the terms summed over all rows, piece by piece.</summary>
    private static void SumTwoTerms<TTerms>(TTerms terms, long rows, int channels, double* first, double* second, int threads)
        where TTerms : struct, ITwoTerms
    {
        long blocks = (rows + BlockRows - 1) / BlockRows;
        int pieces = (int)Math.Clamp(blocks, 1, PiecesPerThread * Math.Max(1, threads));
        var partials = new double[pieces, 2 * channels];
        OpenMpTeam.ForEachPiece(pieces, threads, piece =>
        {
            fixed (double* partial = &partials[piece, 0])
            {
                long firstRow = blocks * piece / pieces * BlockRows;
                long lastRow = Math.Min(rows, blocks * (piece + 1) / pieces * BlockRows);
                SumRows(terms, firstRow, lastRow, channels, partial, partial + channels);
            }
        });
        for (int c = 0; c < channels; c++)
        {
            double a = 0, b = 0;
            for (int piece = 0; piece < pieces; piece++) { a += partials[piece, c]; b += partials[piece, channels + c]; }
            first[c] = a;
            second[c] = b;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SumRows<TTerms>(TTerms terms, long firstRow, long lastRow, int channels, double* first, double* second)
        where TTerms : struct, ITwoTerms
    {
        for (long start = firstRow; start < lastRow; start += BlockRows)
        {
            long end = Math.Min(lastRow, start + BlockRows);
            int c = 0;
            for (; c + 8 <= channels; c += 8)
            {
                // Two accumulators a row apart, so that consecutive additions do not wait for each other.
                Vector256<float> a0 = default, a1 = default, b0 = default, b1 = default;
                long r = start;
                for (; r + 2 <= end; r += 2)
                {
                    var (x0, y0) = terms.At(r * channels + c, c);
                    var (x1, y1) = terms.At((r + 1) * channels + c, c);
                    a0 = Avx.Add(a0, x0); b0 = Avx.Add(b0, y0);
                    a1 = Avx.Add(a1, x1); b1 = Avx.Add(b1, y1);
                }
                if (r < end)
                {
                    var (x0, y0) = terms.At(r * channels + c, c);
                    a0 = Avx.Add(a0, x0); b0 = Avx.Add(b0, y0);
                }
                AddToDouble(first + c, Avx.Add(a0, a1));
                AddToDouble(second + c, Avx.Add(b0, b1));
            }
            for (; c < channels; c++)
            {
                float a = 0, b = 0;
                for (long r = start; r < end; r++)
                {
                    var (x, y) = terms.ScalarAt(r * channels + c, c);
                    a += x;
                    b += y;
                }
                first[c] += a;
                second[c] += b;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddToDouble(double* target, Vector256<float> sum)
    {
        Avx.Store(target, Avx.Add(Avx.LoadVector256(target), Avx.ConvertToVector256Double(sum.GetLower())));
        Avx.Store(target + 4, Avx.Add(Avx.LoadVector256(target + 4), Avx.ConvertToVector256Double(sum.GetUpper())));
    }

    /// <summary>Runs <paramref name="work"/>(first, last) over row ranges, piece by piece.</summary>
    private static void ForEachRowRange(long rows, int threads, Action<long, long> work)
    {
        int pieces = (int)Math.Clamp((rows + BlockRows - 1) / BlockRows, 1, PiecesPerThread * Math.Max(1, threads));
        OpenMpTeam.ForEachPiece(pieces, threads, piece => work(rows * piece / pieces, rows * (piece + 1) / pieces));
    }

}
