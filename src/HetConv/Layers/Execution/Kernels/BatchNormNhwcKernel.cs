using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using HetConv.Runtime;

namespace HetConv.Layers.Execution.Kernels;

/// <summary>
/// Training-mode BatchNorm over NHWC data seen as [rows, C], written once over a vector width (see
/// <see cref="IVectorOps{TVector}"/>), in as few sweeps over memory as the arithmetic allows: the statistics (one
/// read), the normalisation with the residual addition and ReLU that follow it in a residual block (one read, one
/// write), and the backward pass as a reduction (one read of dY, the output and the input) and an update (the same
/// reads, one write). libtorch runs BatchNorm, the addition and ReLU as separate operations, each a sweep of its
/// own, forward and backward; at the small channel counts of CIFAR ResNets those sweeps are a fifth of a HetConv
/// network's training step, the work its convolutions' FLOPs do not shrink.
/// Rows are cut into more pieces than threads, taken as threads become free (a thread slowed by other load takes
/// fewer). Sums are taken in float over blocks of <see cref="BlockRows"/> rows and added up in double, per piece,
/// then in piece order: the results do not depend on which thread took which piece.
/// </summary>
internal static unsafe class BatchNormNhwcKernel
{
    private const int BlockRows = 64;
    private const int PiecesPerThread = 4;

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
        long rows, int channels, int threads) =>
        ForEachElement(new NormalizePass(x, residual, output, scale, shift, relu), rows, channels, threads);

    /// <summary>
    /// The backward update: gradInput = g a[c] - b[c] - (x - mean[c]) d[c], and gradResidual = g when not null
    /// (g as in <see cref="BackwardSums"/>).
    /// </summary>
    public static void BackwardInput(float* gradOutput, float* output, float* x, float* mean, float* a, float* b, float* d,
        bool relu, float* gradInput, float* gradResidual, long rows, int channels, int threads) =>
        ForEachElement(new BackwardInputPass(gradOutput, output, x, mean, a, b, d, relu, gradInput, gradResidual),
            rows, channels, threads);

    /// <summary>
    /// The width a pass over <paramref name="channels"/> channels runs at: the chosen one (read on the calling thread),
    /// but AVX-512 only where its vectors tile the channels, else AVX2, whose vectors leave no scalar tail on
    /// channel counts that are multiples of 8 (AVX-512 implies AVX2).
    /// </summary>
    private static VectorWidth WidthFor(int channels)
    {
        var width = KernelIsa.Current;
        if (width == VectorWidth.Avx512 && channels % 16 != 0) width = VectorWidth.Avx2;
        KernelIsa.CountLaunch(width);
        return width;
    }

    /// <summary>Work compiled once per width (see <see cref="AtWidth"/>).</summary>
    private interface IWidthWork
    {
        void Run<TOps, TV>() where TOps : struct, IVectorOps<TV> where TV : struct;
    }

    private static void AtWidth<TWork>(VectorWidth width, in TWork work) where TWork : struct, IWidthWork
    {
        switch (width)
        {
            case VectorWidth.Avx512: work.Run<Vector512Ops, Vector512<float>>(); break;
            case VectorWidth.Avx2: work.Run<Vector256Ops, Vector256<float>>(); break;
            default: work.Run<Vector128Ops, Vector128<float>>(); break;
        }
    }

    /// <summary>An element-wise pass: a vector of channels from <c>c</c> at <c>index</c> (row * C + c), or one channel.</summary>
    private interface IElementPass
    {
        void Vector<TOps, TV>(long index, int c) where TOps : struct, IVectorOps<TV> where TV : struct;
        void Scalar(long index, int c);
    }

    /// <summary>Runs <paramref name="pass"/> over every element, rows cut into pieces.</summary>
    private static void ForEachElement<TPass>(TPass pass, long rows, int channels, int threads) where TPass : struct, IElementPass
    {
        var width = WidthFor(channels);
        int pieces = (int)Math.Clamp((rows + BlockRows - 1) / BlockRows, 1, PiecesPerThread * Math.Max(1, threads));
        OpenMpTeam.ForEachPiece(pieces, threads, piece =>
            AtWidth(width, new ElementRows<TPass>(pass, rows * piece / pieces, rows * (piece + 1) / pieces, channels)));
    }

    private readonly struct ElementRows<TPass>(TPass pass, long first, long last, int channels) : IWidthWork
        where TPass : struct, IElementPass
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run<TOps, TV>() where TOps : struct, IVectorOps<TV> where TV : struct
        {
            for (long r = first; r < last; r++)
            {
                long row = r * channels;
                int c = 0;
                for (; c + TOps.Lanes <= channels; c += TOps.Lanes) pass.Vector<TOps, TV>(row + c, c);
                for (; c < channels; c++) pass.Scalar(row + c, c);
            }
        }
    }

    private readonly struct NormalizePass(float* x, float* residual, float* output, float* scale, float* shift, bool relu) : IElementPass
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Vector<TOps, TV>(long i, int c) where TOps : struct, IVectorOps<TV> where TV : struct
        {
            var v = TOps.MultiplyAdd(TOps.Load(x + i), TOps.Load(scale + c), TOps.Load(shift + c));
            if (residual != null) v = TOps.Add(v, TOps.Load(residual + i));
            if (relu) v = TOps.Relu(v);
            TOps.Store(output + i, v);
        }

        public void Scalar(long i, int c)
        {
            float v = x[i] * scale[c] + shift[c];
            if (residual != null) v += residual[i];
            output[i] = relu ? MathF.Max(v, 0f) : v;
        }
    }

    private readonly struct BackwardInputPass(float* gradOutput, float* output, float* x, float* mean, float* a, float* b, float* d,
        bool relu, float* gradInput, float* gradResidual) : IElementPass
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Vector<TOps, TV>(long i, int c) where TOps : struct, IVectorOps<TV> where TV : struct
        {
            var g = TOps.Load(gradOutput + i);
            if (relu) g = TOps.WherePositive(g, TOps.Load(output + i));
            if (gradResidual != null) TOps.Store(gradResidual + i, g);
            // g a - b - (x - mean) d, as (mean - x) d + (g a + (-b)): the same roundings as the fused forms.
            var v = TOps.MultiplyAdd(g, TOps.Load(a + c), TOps.Subtract(default, TOps.Load(b + c)));
            TOps.Store(gradInput + i, TOps.MultiplyAdd(TOps.Subtract(TOps.Load(mean + c), TOps.Load(x + i)), TOps.Load(d + c), v));
        }

        public void Scalar(long i, int c)
        {
            float g = relu && !(output[i] > 0f) ? 0f : gradOutput[i];
            if (gradResidual != null) gradResidual[i] = g;
            gradInput[i] = g * a[c] - b[c] - (x[i] - mean[c]) * d[c];
        }
    }

    /// <summary>The two per-element terms a reduction sums, for a vector of channels from <c>index</c> (or one, scalar).</summary>
    private interface ITwoTerms
    {
        (TV First, TV Second) At<TOps, TV>(long index, int channel) where TOps : struct, IVectorOps<TV> where TV : struct;
        (float First, float Second) ScalarAt(long index, int channel);
    }

    private readonly struct SquareTerms(float* x) : ITwoTerms
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public (TV, TV) At<TOps, TV>(long index, int channel) where TOps : struct, IVectorOps<TV> where TV : struct
        {
            var v = TOps.Load(x + index);
            return (v, TOps.Multiply(v, v));
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
        public (TV, TV) At<TOps, TV>(long index, int channel) where TOps : struct, IVectorOps<TV> where TV : struct
        {
            var g = TOps.Load(gradOutput + index);
            if (TMask.Enabled) g = TOps.WherePositive(g, TOps.Load(output + index));
            return (g, TOps.Multiply(g, TOps.Subtract(TOps.Load(x + index), TOps.Load(mean + channel))));
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
        var width = WidthFor(channels);
        long blocks = (rows + BlockRows - 1) / BlockRows;
        int pieces = (int)Math.Clamp(blocks, 1, PiecesPerThread * Math.Max(1, threads));
        var partials = new double[pieces, 2 * channels];
        OpenMpTeam.ForEachPiece(pieces, threads, piece =>
        {
            fixed (double* partial = &partials[piece, 0])
            {
                long firstRow = blocks * piece / pieces * BlockRows;
                long lastRow = Math.Min(rows, blocks * (piece + 1) / pieces * BlockRows);
                AtWidth(width, new SumRows<TTerms>(terms, firstRow, lastRow, channels, partial, partial + channels));
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

    /// <summary>target[0 .. L-1] += sum's lanes, in double (once per block of rows: no vector code needed).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddToDoubles<TOps, TV>(double* target, TV sum) where TOps : struct, IVectorOps<TV> where TV : struct
    {
        float* lanes = stackalloc float[16];
        TOps.Store(lanes, sum);
        for (int l = 0; l < TOps.Lanes; l++) target[l] += lanes[l];
    }

    private readonly struct SumRows<TTerms>(TTerms terms, long firstRow, long lastRow, int channels, double* first, double* second)
        : IWidthWork where TTerms : struct, ITwoTerms
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run<TOps, TV>() where TOps : struct, IVectorOps<TV> where TV : struct
        {
            for (long start = firstRow; start < lastRow; start += BlockRows)
            {
                long end = Math.Min(lastRow, start + BlockRows);
                int c = 0;
                for (; c + TOps.Lanes <= channels; c += TOps.Lanes)
                {
                    // Two accumulators a row apart, so that consecutive additions do not wait for each other.
                    TV a0 = default, a1 = default, b0 = default, b1 = default;
                    long r = start;
                    for (; r + 2 <= end; r += 2)
                    {
                        var (x0, y0) = terms.At<TOps, TV>(r * channels + c, c);
                        var (x1, y1) = terms.At<TOps, TV>((r + 1) * channels + c, c);
                        a0 = TOps.Add(a0, x0); b0 = TOps.Add(b0, y0);
                        a1 = TOps.Add(a1, x1); b1 = TOps.Add(b1, y1);
                    }
                    if (r < end)
                    {
                        var (x0, y0) = terms.At<TOps, TV>(r * channels + c, c);
                        a0 = TOps.Add(a0, x0); b0 = TOps.Add(b0, y0);
                    }
                    AddToDoubles<TOps, TV>(first + c, TOps.Add(a0, a1));
                    AddToDoubles<TOps, TV>(second + c, TOps.Add(b0, b1));
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
    }
}
