using System.Runtime.CompilerServices;
using HetConv.Runtime;

namespace HetConv.Layers.Execution.Kernels;

/// <summary>
/// HetConv weight gradient on NHWC data, written once over a vector width (see <see cref="HetConvNhwcKernel"/>), in
/// the packed layout of <see cref="PackedHetConvWeights"/>: d centre[block][m][16] = sum over output pixels of
/// dY[pixel, block] * x[centre tap, m], and d off-centre[block][t][j][16] = sum of dY[pixel, block] *
/// x[tap t, (n mod P) + P j], only the paper's multiply-adds. As in the forward kernel the input is zero-padded (see
/// <see cref="PaddedImageGroups"/>), so each weight row is a fixed offset from a pixel's corner; a register tile
/// (<see cref="ITile{TV}"/>) is 6 weight rows (12 with AVX-512) by two vectors of filters, summed over a chunk of
/// pixels. Output pixels are cut into fixed shares (slots) summed into buffers of their own, added in slot order.
/// </summary>
[SkipLocalsInit]
internal static unsafe class HetConvNhwcWeightGradient
{
    private const int MinChunkPixels = 24;
    private const int MaxChunkPixels = 64;

    /// <summary>
    /// Pixels summed per pass over a block's weight rows: each row sweeps the whole chunk, so the chunk's input
    /// (its pixels' KxK neighbourhoods, about ChunkBytes) must stay in L2; wide layers take fewer pixels. At most
    /// 64: the chunk's dY rows (4 KB) and the input lines a tile reads then stay in L1, which made the weight
    /// gradient of 32 to 128 channels 5-15% faster than chunks of 256 (measured side by side; the same elsewhere).
    /// </summary>
    private static int ChunkPixels(ConvGeometry g) =>
        Math.Clamp(ChunkBytes / (3 * g.InChannels * sizeof(float)), MinChunkPixels, MaxChunkPixels);

    private const int ChunkBytes = 192 * 1024;

    /// <param name="input">x, NHWC [B, H, W, M]</param>
    /// <param name="gradOutput">dY, NHWC [B, Ho, Wo, N]</param>
    /// <param name="centre">written: [blocks, M, 16]</param>
    /// <param name="offCentre">written: [blocks, T, M/P, 16]</param>
    public static void Compute(float* input, float* gradOutput, float* centre, float* offCentre, ConvGeometry g, int threads) =>
        Compute(KernelIsa.Current, input, gradOutput, centre, offCentre, g, threads);

    public static void Compute(VectorWidth width, float* input, float* gradOutput, float* centre, float* offCentre, ConvGeometry g, int threads) =>
        KernelDispatch.Run<Pass, Args>(width, g.Part, g.OutChannels, new Args(input, gradOutput, centre, offCentre, g, threads));

    private readonly struct Args(float* input, float* gradOutput, float* centre, float* offCentre, ConvGeometry g, int threads)
    {
        public readonly float* Input = input, GradOutput = gradOutput, Centre = centre, OffCentre = offCentre;
        public readonly ConvGeometry G = g;
        public readonly int Threads = threads;
    }

    private readonly struct Pass : IKernelPass<Args>
    {
        public static void Run<TOps, TV, TLoad, TTile>(in Args a)
            where TOps : struct, IVectorOps<TV> where TV : struct where TLoad : struct, ILaneLoad where TTile : struct, ITile<TV> =>
            HetConvNhwcWeightGradient.Run<TOps, TV, TLoad, TTile>(a.Input, a.GradOutput, a.Centre, a.OffCentre, a.G, a.Threads);
    }

    private static void Run<TOps, TV, TLoad, TTile>(float* input, float* gradOutput, float* centre, float* offCentre, ConvGeometry g, int threads)
        where TOps : struct, IVectorOps<TV> where TV : struct where TLoad : struct, ILaneLoad where TTile : struct, ITile<TV>
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
                    Accumulate<TOps, TV, TLoad, TTile>(padded, gradOutput + firstPixel * g.OutChannels, part, first, last, sums, upcoming);
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
            // Slices, a few per thread and taken as threads become free, each the partial sums added in slot order:
            // the same result on every run, whichever thread adds which slice.
            int slices = workers == 1 ? 1 : 4 * workers;
            OpenMpTeam.ForEachPiece(slices, workers, slice =>
            {
                int first = (int)((long)total * slice / slices / 8 * 8);
                int last = slice == slices - 1 ? total : (int)((long)total * (slice + 1) / slices / 8 * 8);
                foreach (var partial in partials)
                {
                    // The sums are two arrays (centre, off-centre) seen as one range [0, total).
                    float* p = partial.Pointer;
                    int split = Math.Clamp(centreSize, first, last);
                    AddInto<TOps, TV>((float*)centrePtr + first, p + first, split - first);
                    AddInto<TOps, TV>((float*)offPtr + (split - centreSize), p + split, last - split);
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
    private static void Accumulate<TOps, TV, TLoad, TTile>(float* padded, float* gradOutput, ConvGeometry g, long first, long last, in Sums sums,
        PaddedImageGroups.UpcomingInput upcoming)
        where TOps : struct, IVectorOps<TV> where TV : struct where TLoad : struct, ILaneLoad where TTile : struct, ITile<TV>
    {
        int chunk = ChunkPixels(g), columns = KernelWidths.Columns(g.OutChannels, TOps.Lanes);
        long chunks = (last - first + chunk - 1) / chunk;
        nint* corners = stackalloc nint[chunk];
        float* lanes = stackalloc float[2 * TOps.Lanes * chunk];
        for (long start = first; start < last; start += chunk)
        {
            int count = (int)Math.Min(chunk, last - start);
            PaddedImageGroups.FindCorners(padded, g, start, count, corners);
            upcoming.Fetch((start - first) / chunk, chunks);
            for (int column = 0; column < columns; column++)
                Chunk<TOps, TV, TLoad, TTile>(gradOutput, lanes, corners, start, count, column, sums, g);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AddInto<TOps, TV>(float* target, float* source, int length) where TOps : struct, IVectorOps<TV> where TV : struct
    {
        int i = 0;
        for (; i + TOps.Lanes <= length; i += TOps.Lanes)
            TOps.Store(target + i, TOps.Add(TOps.Load(target + i), TOps.Load(source + i)));
        for (; i < length; i++) target[i] += source[i];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Chunk<TOps, TV, TLoad, TTile>(float* gradOutput, float* lanes, nint* corners, long start, int count, int column,
        in Sums sums, ConvGeometry g)
        where TOps : struct, IVectorOps<TV> where TV : struct where TLoad : struct, ILaneLoad where TTile : struct, ITile<TV>
    {
        // The column's dY, copied to consecutive rows of 2L (missing filters as zeros): read once per weight row,
        // it must not be spread one line per pixel over the whole NHWC tensor.
        int L = TOps.Lanes, m = g.InChannels, f0 = column * 2 * L, f1 = f0 + L, valid = Math.Min(2 * L, g.OutChannels - f0);
        bool second = f1 < g.FilterBlocks * 16;
        float* dy = gradOutput + start * g.OutChannels + f0;
        for (int i = 0; i < count; i++)
        {
            float* source = dy + (long)i * g.OutChannels;
            if (valid == 2 * L)
            {
                TOps.Store(lanes + i * 2 * L, TOps.Load(source));
                TOps.Store(lanes + i * 2 * L + L, TOps.Load(source + L));
                continue;
            }
            for (int l = 0; l < 2 * L; l++) lanes[i * 2 * L + l] = l < valid ? source[l] : 0;
        }

        // Centre tap: every channel, scalar broadcast. Filter f's sums start at its block's rows, lane f mod 16.
        long centreBlock = (long)m * 16, offCentreBlock = (long)g.OffCentreTaps * g.KxkPerFilter * 16;
        float* centre0 = sums.Centre + f0 / 16 * centreBlock + f0 % 16, centre1 = sums.Centre + f1 / 16 * centreBlock + f1 % 16;
        Rows<TOps, TV, ScalarLoad, TTile>(lanes, corners, sums.CentreRows, 0, 0, count, m, centre0, centre1, second);

        // Other taps: the lane's own KxK channels, (n mod P) + P j, from the first lane's channel n0 mod P.
        float* off0 = sums.OffCentre + f0 / 16 * offCentreBlock + f0 % 16, off1 = sums.OffCentre + f1 / 16 * offCentreBlock + f1 % 16;
        Rows<TOps, TV, TLoad, TTile>(lanes, corners, sums.OffRows, LaneLoads.Base(g.Part, f0), LaneLoads.SecondDelta(g.Part, L, f0), count,
            g.OffCentreTaps * g.KxkPerFilter, off0, off1, second);
    }

    /// <summary>
    /// sum[r][lanes] += over the chunk's pixels of dY[pixel][lanes] * lanes of x[corner + laneBase + rows[r]], r &lt; count,
    /// for the two vectors of a column (the second's sums at <paramref name="sum1"/>, added only where it has filters).
    /// </summary>
    /// <remarks>
    /// A row count that is not a multiple of the tile's rows (16 centre rows of a 16-channel layer, say) ends with a
    /// partial tile whose missing rows repeat its last one, computed and dropped: summing them one by one instead
    /// would chain each row's multiply-adds on their own latency, at a quarter of the tile's rate, and that tail
    /// took about a third of a 16-channel layer's weight gradient.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows<TOps, TV, TLoad, TTile>(float* dy, nint* corners, long* rowOffsets, int laneBase, nint delta, int count, int rows,
        float* sum0, float* sum1, bool second)
        where TOps : struct, IVectorOps<TV> where TV : struct where TLoad : struct, ILaneLoad where TTile : struct, ITile<TV>
    {
        const int MaxColumnFilters = 32;
        int L = TOps.Lanes;
        bool both = TOps.Lanes < 16 || second;
        float* partial = stackalloc float[MaxColumnFilters * KernelDispatch.MaxTileRows];
        nint* addresses = stackalloc nint[KernelDispatch.MaxTileRows];
        for (int r = 0; r < rows; r += TTile.Rows)
        {
            int valid = Math.Min(TTile.Rows, rows - r), last = valid - 1;
            for (int k = 0; k < TTile.Rows; k++) addresses[k] = (nint)(rowOffsets[r + Math.Min(k, last)] + laneBase);
            TTile tile = default;
            tile.Start(default, default, addresses);
            for (int i = 0; i < count; i++)
            {
                float* d = dy + i * 2 * L;
                tile.MultiplyAdd<TOps, TLoad, RowOffset>(TOps.Load(d), TOps.Load(d + L), corners[i], delta);
            }
            // A full tile adds straight into the sums; a partial one is stored to a scratch tile and its valid rows
            // added from there.
            if (valid == TTile.Rows)
            {
                tile.AddInto<TOps>(sum0 + r * 16L, sum1 + r * 16L, 16, both);
                continue;
            }
            tile.Store<TOps>(partial, null, 2 * L, false);
            for (int k = 0; k < valid; k++)
            {
                AddTo<TOps, TV>(sum0 + (r + k) * 16L, TOps.Load(partial + k * 2 * L));
                if (both) AddTo<TOps, TV>(sum1 + (r + k) * 16L, TOps.Load(partial + k * 2 * L + L));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddTo<TOps, TV>(float* o, TV value) where TOps : struct, IVectorOps<TV> where TV : struct =>
        TOps.Store(o, TOps.Add(TOps.Load(o), value));
}
