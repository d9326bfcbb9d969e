using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using HetConv.Runtime;

namespace HetConv.Layers.Execution.Kernels;

/// <summary>
/// HetConv weight gradient on NHWC data, AVX2 + FMA, in the packed layout of <see cref="PackedHetConvWeights"/>:
/// d centre[block][m][16] = sum over output pixels of dY[pixel, block] * x[centre tap, m], and
/// d off-centre[block][t][j][16] = sum of dY[pixel, block] * x[tap t, (n mod P) + P j], only the paper's
/// multiply-adds. As in the forward kernel the input is zero-padded (see <see cref="PaddedImageGroups"/>), so each
/// weight row is a fixed offset from a pixel's corner; a register tile is 6 rows by 16 filters, summed over a chunk
/// of pixels. Output pixels are cut into fixed shares (slots) summed into buffers of their own, added in slot order.
/// </summary>
[SkipLocalsInit]
internal static unsafe class HetConvNhwcWeightGradient
{
    private const int TileRows = 6;
    private const int MaxChunkPixels = 64;

    /// <summary>
    /// Pixels summed per pass over a block's weight rows: each row sweeps the whole chunk, so the chunk's input
    /// (its pixels' KxK neighbourhoods, about ChunkBytes) must stay in L2; wide layers take fewer pixels. At most
    /// 64: the chunk's dY rows (4 KB) and the input lines a tile reads then stay in L1, which made the weight
    /// gradient of 32 to 128 channels 5-15% faster than chunks of 256 (measured side by side; the same elsewhere).
    /// </summary>
    private static int ChunkPixels(ConvGeometry g) =>
        Math.Clamp(ChunkBytes / (3 * g.InChannels * sizeof(float)), 4 * TileRows, MaxChunkPixels);

    private const int ChunkBytes = 192 * 1024;

    /// <param name="input">x, NHWC [B, H, W, M]</param>
    /// <param name="gradOutput">dY, NHWC [B, Ho, Wo, N]</param>
    /// <param name="centre">written: [blocks, M, 16]</param>
    /// <param name="offCentre">written: [blocks, T, M/P, 16]</param>
    public static void Compute(float* input, float* gradOutput, float* centre, float* offCentre, ConvGeometry g, int threads)
    {
        switch (g.Part)
        {
            case 1: Run<PartOneLoad>(input, gradOutput, centre, offCentre, g, threads); break;
            case 2: Run<PartTwoLoad>(input, gradOutput, centre, offCentre, g, threads); break;
            case 4: Run<PartFourLoad>(input, gradOutput, centre, offCentre, g, threads); break;
            case 8: Run<PartEightLoad>(input, gradOutput, centre, offCentre, g, threads); break;
            case var p when p % 16 == 0: Run<PartSixteenMultipleLoad>(input, gradOutput, centre, offCentre, g, threads); break;
            default: throw new NotSupportedException($"part P = {g.Part}: the NHWC kernel handles P = 1, 2, 4, 8 and multiples of 16.");
        }
    }

    private static void Run<TLoad>(float* input, float* gradOutput, float* centre, float* offCentre, ConvGeometry g, int threads)
        where TLoad : struct, ILaneLoad
    {
        int centreSize = g.FilterBlocks * g.InChannels * 16;
        int offSize = g.FilterBlocks * g.OffCentreTaps * g.KxkPerFilter * 16;
        int workers = Math.Max(1, threads);

        // Row offsets from a pixel's corner: the centre tap's M channels, then each off-centre (tap, j).
        long centreTap = PaddedImageGroups.CentreTapOffset(g);
        var centreRows = new long[g.InChannels];
        for (int q = 0; q < centreRows.Length; q++) centreRows[q] = centreTap + q;
        var offRows = PaddedImageGroups.OffCentreStepOffsets(g);

        // Sums are kept per slot, a fixed share of the pixels: slot 0 sums straight into the outputs, the others into
        // pooled buffers added at the end, in slot order, so the result does not depend on which thread took which
        // slot. Small layers cut the batch into more slots than threads, taken as threads become free (a thread
        // slowed by other load takes fewer); wide ones keep one slot per thread, their sums being up to 3 MB each.
        int total = centreSize + offSize;
        int chunk = ChunkPixels(g);
        bool byGroups = PaddedImageGroups.CanSplit(g, chunk, workers);
        long pixels = g.OutputPixels;
        int slots = !byGroups ? (int)Math.Max(1, Math.Min(workers, (pixels + chunk - 1) / chunk))
            : total * sizeof(float) <= 256 * 1024 ? 4 * workers : workers;
        var partials = new AlignedFloats[slots - 1];
        for (int w = 1; w < slots; w++) partials[w - 1] = new AlignedFloats(total, clear: false);
        nint centrePtr = (nint)centre, offPtr = (nint)offCentre;
        try
        {
            // Zeroing and the final sum run on every thread: for 512 channels the sums are 3 MB each.
            OpenMpTeam.ForEachPiece(slots, workers, slot =>
            {
                if (slot > 0) partials[slot - 1].Span.Clear();
                else
                {
                    new Span<float>((float*)centrePtr, centreSize).Clear();
                    new Span<float>((float*)offPtr, offSize).Clear();
                }
            });
            fixed (long* centreRowPtr = centreRows, offRowPtr = offRows)
            {
                nint centreRowAddress = (nint)centreRowPtr, offRowAddress = (nint)offRowPtr;
                // Sums pixels [first, last) of a group read from padded (its dY from firstPixel on) into the slot's sums.
                void Sum(float* padded, long firstPixel, ConvGeometry part, long first, long last, int slot,
                    PaddedImageGroups.UpcomingInput upcoming)
                {
                    float* partial = slot == 0 ? null : partials[slot - 1].Pointer;
                    var sums = new Sums(slot == 0 ? (float*)centrePtr : partial,
                        slot == 0 ? (float*)offPtr : partial + centreSize, (long*)centreRowAddress, (long*)offRowAddress);
                    Accumulate<TLoad>(padded, gradOutput + firstPixel * g.OutChannels, part, first, last, sums, upcoming);
                }

                if (byGroups)
                {
                    PaddedImageGroups.ForEachGroup(input, g, chunk, workers, runs: slots, (padded, group, firstPixel, slot, upcoming) =>
                        Sum(padded, firstPixel, group, 0, group.OutputPixels, slot, upcoming));
                }
                else
                {
                    PaddedImageGroups.WithWholeBatch(input, g, padded => OpenMpTeam.Run(slots, slot =>
                        Sum((float*)padded, 0, g, pixels * slot / slots, pixels * (slot + 1) / slots, slot,
                        PaddedImageGroups.UpcomingInput.None)));
                }
            }
            // Each thread adds up one slice, the partial sums in slot order: the same result on every run.
            OpenMpTeam.Run(workers, worker =>
            {
                int first = (int)((long)total * worker / workers / 8 * 8);
                int last = worker == workers - 1 ? total : (int)((long)total * (worker + 1) / workers / 8 * 8);
                foreach (var partial in partials)
                {
                    // The sums are two arrays (centre, off-centre) seen as one range [0, total).
                    float* p = partial.Pointer;
                    int split = Math.Clamp(centreSize, first, last);
                    AddInto((float*)centrePtr + first, p + first, split - first);
                    AddInto((float*)offPtr + (split - centreSize), p + split, last - split);
                }
            });
        }
        finally
        {
            foreach (var partial in partials) partial.Dispose();
        }
    }

    /// <summary>Where a worker's gradient sums go, and the row offsets they are taken at.</summary>
    private readonly struct Sums(float* centre, float* offCentre, long* centreRows, long* offRows)
    {
        public readonly float* Centre = centre, OffCentre = offCentre;
        public readonly long* CentreRows = centreRows, OffRows = offRows;
    }

    /// <summary>Sums output pixels [first, last) of <paramref name="g"/>'s images, chunk by chunk.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Accumulate<TLoad>(float* padded, float* gradOutput, ConvGeometry g, long first, long last, in Sums sums,
        PaddedImageGroups.UpcomingInput upcoming) where TLoad : struct, ILaneLoad
    {
        int chunk = ChunkPixels(g);
        long chunks = (last - first + chunk - 1) / chunk;
        nint* corners = stackalloc nint[chunk];
        float* lanes = stackalloc float[16 * chunk];
        for (long start = first; start < last; start += chunk)
        {
            int count = (int)Math.Min(chunk, last - start);
            PaddedImageGroups.FindCorners(padded, g, start, count, corners);
            upcoming.Fetch((start - first) / chunk, chunks);
            for (int block = 0; block < g.FilterBlocks; block++)
                Chunk<TLoad>(gradOutput, lanes, corners, start, count, block, sums, g);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddInto(float* target, float* source, int length)
    {
        int i = 0;
        for (; i + 8 <= length; i += 8)
            Avx.Store(target + i, Avx.Add(Avx.LoadVector256(target + i), Avx.LoadVector256(source + i)));
        for (; i < length; i++) target[i] += source[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Chunk<TLoad>(float* gradOutput, float* lanes, nint* corners, long start, int count, int block,
        in Sums sums, ConvGeometry g) where TLoad : struct, ILaneLoad
    {
        // The block's dY, copied to consecutive rows of 16 (the missing filters of a last partial block as zeros):
        // read once per weight row, it must not be spread one line per pixel over the whole NHWC tensor.
        int m = g.InChannels, valid = Math.Min(16, g.OutChannels - block * 16);
        float* dy = gradOutput + start * g.OutChannels + block * 16;
        for (int i = 0; i < count; i++)
        {
            float* source = dy + (long)i * g.OutChannels;
            if (valid == 16)
            {
                Avx.Store(lanes + i * 16, Avx.LoadVector256(source));
                Avx.Store(lanes + i * 16 + 8, Avx.LoadVector256(source + 8));
                continue;
            }
            for (int l = 0; l < 16; l++) lanes[i * 16 + l] = l < valid ? source[l] : 0;
        }

        // Centre tap: every channel, scalar broadcast.
        Rows<PartOneLoad>(lanes, 16, corners, sums.CentreRows, 0, count, m, sums.Centre + (long)block * m * 16);

        // Other taps: the lane's own KxK channels, (n mod P) + P j, from the first lane's channel n0 mod P.
        int laneBase = g.Part >= 16 ? block * 16 % g.Part : 0;
        Rows<TLoad>(lanes, 16, corners, sums.OffRows, laneBase, count, g.OffCentreTaps * g.KxkPerFilter,
            sums.OffCentre + (long)block * g.OffCentreTaps * g.KxkPerFilter * 16);
    }

    /// <summary>sum[r][16] += over the chunk's pixels of dY[pixel][16] * lanes of x[corner + laneBase + rows[r]], r &lt; count.</summary>
    /// <remarks>
    /// A row count that is not a multiple of the tile's 6 (16 centre rows of a 16-channel layer, say) ends with a
    /// partial tile whose missing rows repeat its last one, computed and dropped: summing them one by one instead
    /// would chain each row's multiply-adds on their own latency, at a quarter of the tile's rate, and that tail
    /// took about a third of a 16-channel layer's weight gradient.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows<TLoad>(float* dy, long dyStride, nint* corners, long* rowOffsets, int laneBase, int count, int rows, float* sum)
        where TLoad : struct, ILaneLoad
    {
        float* partial = stackalloc float[TileRows * 16];
        for (int r = 0; r < rows; r += TileRows)
        {
            int valid = Math.Min(TileRows, rows - r), last = valid - 1;
            Vector256<float> s00 = default, s01 = default, s10 = default, s11 = default, s20 = default, s21 = default;
            Vector256<float> s30 = default, s31 = default, s40 = default, s41 = default, s50 = default, s51 = default;
            long o0 = rowOffsets[r] + laneBase, o1 = rowOffsets[r + Math.Min(1, last)] + laneBase;
            long o2 = rowOffsets[r + Math.Min(2, last)] + laneBase, o3 = rowOffsets[r + Math.Min(3, last)] + laneBase;
            long o4 = rowOffsets[r + Math.Min(4, last)] + laneBase, o5 = rowOffsets[r + last] + laneBase;
            for (int i = 0; i < count; i++)
            {
                float* d = dy + i * dyStride;
                var g0 = Avx.LoadVector256(d);
                var g1 = Avx.LoadVector256(d + 8);
                float* x = (float*)corners[i];
                if (TLoad.Shared)
                {
                    var v = TLoad.First(x + o0); s00 = Fma.MultiplyAdd(g0, v, s00); s01 = Fma.MultiplyAdd(g1, v, s01);
                    v = TLoad.First(x + o1); s10 = Fma.MultiplyAdd(g0, v, s10); s11 = Fma.MultiplyAdd(g1, v, s11);
                    v = TLoad.First(x + o2); s20 = Fma.MultiplyAdd(g0, v, s20); s21 = Fma.MultiplyAdd(g1, v, s21);
                    v = TLoad.First(x + o3); s30 = Fma.MultiplyAdd(g0, v, s30); s31 = Fma.MultiplyAdd(g1, v, s31);
                    v = TLoad.First(x + o4); s40 = Fma.MultiplyAdd(g0, v, s40); s41 = Fma.MultiplyAdd(g1, v, s41);
                    v = TLoad.First(x + o5); s50 = Fma.MultiplyAdd(g0, v, s50); s51 = Fma.MultiplyAdd(g1, v, s51);
                }
                else
                {
                    s00 = Fma.MultiplyAdd(g0, TLoad.First(x + o0), s00); s01 = Fma.MultiplyAdd(g1, TLoad.Second(x + o0), s01);
                    s10 = Fma.MultiplyAdd(g0, TLoad.First(x + o1), s10); s11 = Fma.MultiplyAdd(g1, TLoad.Second(x + o1), s11);
                    s20 = Fma.MultiplyAdd(g0, TLoad.First(x + o2), s20); s21 = Fma.MultiplyAdd(g1, TLoad.Second(x + o2), s21);
                    s30 = Fma.MultiplyAdd(g0, TLoad.First(x + o3), s30); s31 = Fma.MultiplyAdd(g1, TLoad.Second(x + o3), s31);
                    s40 = Fma.MultiplyAdd(g0, TLoad.First(x + o4), s40); s41 = Fma.MultiplyAdd(g1, TLoad.Second(x + o4), s41);
                    s50 = Fma.MultiplyAdd(g0, TLoad.First(x + o5), s50); s51 = Fma.MultiplyAdd(g1, TLoad.Second(x + o5), s51);
                }
            }
            // A full tile adds straight into the sums; a partial one is stored to a scratch tile and its valid rows
            // added from there. No calls here: one would make the JIT keep the accumulators on the stack.
            if (valid == TileRows)
            {
                float* o = sum + (long)r * 16;
                AddTo(o, s00, s01); AddTo(o + 16, s10, s11); AddTo(o + 32, s20, s21);
                AddTo(o + 48, s30, s31); AddTo(o + 64, s40, s41); AddTo(o + 80, s50, s51);
                continue;
            }
            Avx.Store(partial, s00); Avx.Store(partial + 8, s01); Avx.Store(partial + 16, s10); Avx.Store(partial + 24, s11);
            Avx.Store(partial + 32, s20); Avx.Store(partial + 40, s21); Avx.Store(partial + 48, s30); Avx.Store(partial + 56, s31);
            Avx.Store(partial + 64, s40); Avx.Store(partial + 72, s41);
            for (int k = 0; k < valid; k++)
                AddTo(sum + (long)(r + k) * 16, Avx.LoadVector256(partial + k * 16), Avx.LoadVector256(partial + k * 16 + 8));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddTo(float* o, Vector256<float> first, Vector256<float> second)
    {
        Avx.Store(o, Avx.Add(Avx.LoadVector256(o), first));
        Avx.Store(o + 8, Avx.Add(Avx.LoadVector256(o + 8), second));
    }
}
