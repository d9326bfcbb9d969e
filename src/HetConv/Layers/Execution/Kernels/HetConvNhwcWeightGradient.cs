using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using HetConv.Runtime;

namespace HetConv.Layers.Execution.Kernels;

/// <summary>
/// HetConv weight gradient on NHWC data, written once over a vector width (see <see cref="HetConvNhwcKernel"/>), in the packed layout of <see cref="PackedHetConvWeights"/>:
/// d centre[block][m][16] = sum over output pixels of dY[pixel, block] * x[centre tap, m], and
/// d off-centre[block][t][j][16] = sum of dY[pixel, block] * x[tap t, (n mod P) + P j], only the paper's
/// multiply-adds. As in the forward kernel the input is zero-padded (see <see cref="PaddedImageGroups"/>), so each
/// weight row is a fixed offset from a pixel's corner; a register tile is TileRows weight rows (6; 12 with AVX-512) by
/// two vectors of filters, summed over a chunk of pixels. Output pixels are cut into fixed shares (slots) summed into buffers of their own, added in slot order.
/// </summary>
[SkipLocalsInit]
internal static unsafe class HetConvNhwcWeightGradient
{
    private const int MaxTileRows = 12;
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

    public static void Compute(VectorWidth width, float* input, float* gradOutput, float* centre, float* offCentre, ConvGeometry g, int threads)
    {
        if (!LaneLoads.SupportsPart(g.Part))
            throw new NotSupportedException($"part P = {g.Part}: the NHWC kernel handles P = 1, 2, 4, 8 and multiples of 16.");
        width = KernelWidths.For(width, g.OutChannels);
        KernelIsa.CountLaunch(width);
        switch (width)
        {
            case VectorWidth.Avx512: WithLoad<Vector512Ops, Vector512<float>>(input, gradOutput, centre, offCentre, g, threads); break;
            case VectorWidth.Avx2: WithLoad<Vector256Ops, Vector256<float>>(input, gradOutput, centre, offCentre, g, threads); break;
            default: WithLoad<Vector128Ops, Vector128<float>>(input, gradOutput, centre, offCentre, g, threads); break;
        }
    }

    private static void WithLoad<TOps, TV>(float* input, float* gradOutput, float* centre, float* offCentre, ConvGeometry g, int threads)
        where TOps : struct, IVectorOps<TV> where TV : struct
    {
        switch (LaneLoads.For(g.Part, TOps.Lanes))
        {
            case LaneLoadKind.Scalar: Run<TOps, TV, ScalarLoad>(input, gradOutput, centre, offCentre, g, threads); break;
            case LaneLoadKind.Pair: Run<TOps, TV, PairLoad>(input, gradOutput, centre, offCentre, g, threads); break;
            case LaneLoadKind.Quad: Run<TOps, TV, QuadLoad>(input, gradOutput, centre, offCentre, g, threads); break;
            case LaneLoadKind.Octet: Run<TOps, TV, OctetLoad>(input, gradOutput, centre, offCentre, g, threads); break;
            case LaneLoadKind.Contiguous: Run<TOps, TV, ContiguousLoad>(input, gradOutput, centre, offCentre, g, threads); break;
            case LaneLoadKind.Split: Run<TOps, TV, SplitLoad>(input, gradOutput, centre, offCentre, g, threads); break;
            default: Run<TOps, TV, SplitAtLoad>(input, gradOutput, centre, offCentre, g, threads); break;
        }
    }

    private static void Run<TOps, TV, TLoad>(float* input, float* gradOutput, float* centre, float* offCentre, ConvGeometry g, int threads)
        where TOps : struct, IVectorOps<TV> where TV : struct where TLoad : struct, ILaneLoad
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
                    Accumulate<TOps, TV, TLoad>(padded, gradOutput + firstPixel * g.OutChannels, part, first, last, sums, upcoming);
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
    private static void Accumulate<TOps, TV, TLoad>(float* padded, float* gradOutput, ConvGeometry g, long first, long last, in Sums sums,
        PaddedImageGroups.UpcomingInput upcoming) where TOps : struct, IVectorOps<TV> where TV : struct where TLoad : struct, ILaneLoad
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
                Chunk<TOps, TV, TLoad>(gradOutput, lanes, corners, start, count, column, sums, g);
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
    private static void Chunk<TOps, TV, TLoad>(float* gradOutput, float* lanes, nint* corners, long start, int count, int column,
        in Sums sums, ConvGeometry g) where TOps : struct, IVectorOps<TV> where TV : struct where TLoad : struct, ILaneLoad
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
        Rows<TOps, TV, ScalarLoad>(lanes, corners, sums.CentreRows, 0, 0, count, m, centre0, centre1, second);

        // Other taps: the lane's own KxK channels, (n mod P) + P j, from the first lane's channel n0 mod P.
        float* off0 = sums.OffCentre + f0 / 16 * offCentreBlock + f0 % 16, off1 = sums.OffCentre + f1 / 16 * offCentreBlock + f1 % 16;
        Rows<TOps, TV, TLoad>(lanes, corners, sums.OffRows, LaneLoads.Base(g.Part, f0), LaneLoads.SecondDelta(g.Part, L, f0), count,
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
    private static void Rows<TOps, TV, TLoad>(float* dy, nint* corners, long* rowOffsets, int laneBase, nint delta, int count, int rows,
        float* sum0, float* sum1, bool second) where TOps : struct, IVectorOps<TV> where TV : struct where TLoad : struct, ILaneLoad
    {
        const int MaxColumnFilters = 32;
        int L = TOps.Lanes;
        float* partial = stackalloc float[MaxColumnFilters * MaxTileRows];
        TV zero = default;
        for (int r = 0; r < rows; r += TOps.TileRows)
        {
            int valid = Math.Min(TOps.TileRows, rows - r), last = valid - 1;
            TV s00 = zero, s01 = zero, s10 = zero, s11 = zero, s20 = zero, s21 = zero, s30 = zero, s31 = zero, s40 = zero, s41 = zero, s50 = zero, s51 = zero;
            TV s60 = zero, s61 = zero, s70 = zero, s71 = zero, s80 = zero, s81 = zero, s90 = zero, s91 = zero, s100 = zero, s101 = zero, s110 = zero, s111 = zero;
            long o0 = rowOffsets[r + Math.Min(0, last)] + laneBase, o1 = rowOffsets[r + Math.Min(1, last)] + laneBase,
                o2 = rowOffsets[r + Math.Min(2, last)] + laneBase, o3 = rowOffsets[r + Math.Min(3, last)] + laneBase,
                o4 = rowOffsets[r + Math.Min(4, last)] + laneBase, o5 = rowOffsets[r + Math.Min(5, last)] + laneBase;
            long o6 = TOps.TileRows > 6 ? rowOffsets[r + Math.Min(6, last)] + laneBase : 0,
                o7 = TOps.TileRows > 6 ? rowOffsets[r + Math.Min(7, last)] + laneBase : 0,
                o8 = TOps.TileRows > 6 ? rowOffsets[r + Math.Min(8, last)] + laneBase : 0,
                o9 = TOps.TileRows > 6 ? rowOffsets[r + Math.Min(9, last)] + laneBase : 0,
                o10 = TOps.TileRows > 6 ? rowOffsets[r + Math.Min(10, last)] + laneBase : 0,
                o11 = TOps.TileRows > 6 ? rowOffsets[r + Math.Min(11, last)] + laneBase : 0;
            for (int i = 0; i < count; i++)
            {
                float* d = dy + i * 2 * L;
                var g0 = TOps.Load(d);
                var g1 = TOps.Load(d + L);
                float* x = (float*)corners[i];
                if (TLoad.Shared)
                {
                    TV v;
                    v = TLoad.First<TOps, TV>(x + o0); s00 = TOps.MultiplyAdd(g0, v, s00); s01 = TOps.MultiplyAdd(g1, v, s01);
                    v = TLoad.First<TOps, TV>(x + o1); s10 = TOps.MultiplyAdd(g0, v, s10); s11 = TOps.MultiplyAdd(g1, v, s11);
                    v = TLoad.First<TOps, TV>(x + o2); s20 = TOps.MultiplyAdd(g0, v, s20); s21 = TOps.MultiplyAdd(g1, v, s21);
                    v = TLoad.First<TOps, TV>(x + o3); s30 = TOps.MultiplyAdd(g0, v, s30); s31 = TOps.MultiplyAdd(g1, v, s31);
                    v = TLoad.First<TOps, TV>(x + o4); s40 = TOps.MultiplyAdd(g0, v, s40); s41 = TOps.MultiplyAdd(g1, v, s41);
                    v = TLoad.First<TOps, TV>(x + o5); s50 = TOps.MultiplyAdd(g0, v, s50); s51 = TOps.MultiplyAdd(g1, v, s51);
                    if (TOps.TileRows > 6)
                    {
                        v = TLoad.First<TOps, TV>(x + o6); s60 = TOps.MultiplyAdd(g0, v, s60); s61 = TOps.MultiplyAdd(g1, v, s61);
                        v = TLoad.First<TOps, TV>(x + o7); s70 = TOps.MultiplyAdd(g0, v, s70); s71 = TOps.MultiplyAdd(g1, v, s71);
                        v = TLoad.First<TOps, TV>(x + o8); s80 = TOps.MultiplyAdd(g0, v, s80); s81 = TOps.MultiplyAdd(g1, v, s81);
                        v = TLoad.First<TOps, TV>(x + o9); s90 = TOps.MultiplyAdd(g0, v, s90); s91 = TOps.MultiplyAdd(g1, v, s91);
                        v = TLoad.First<TOps, TV>(x + o10); s100 = TOps.MultiplyAdd(g0, v, s100); s101 = TOps.MultiplyAdd(g1, v, s101);
                        v = TLoad.First<TOps, TV>(x + o11); s110 = TOps.MultiplyAdd(g0, v, s110); s111 = TOps.MultiplyAdd(g1, v, s111);
                    }
                }
                else
                {
                    s00 = TOps.MultiplyAdd(g0, TLoad.First<TOps, TV>(x + o0), s00); s01 = TOps.MultiplyAdd(g1, TLoad.Second<TOps, TV>(x + o0, delta), s01);
                    s10 = TOps.MultiplyAdd(g0, TLoad.First<TOps, TV>(x + o1), s10); s11 = TOps.MultiplyAdd(g1, TLoad.Second<TOps, TV>(x + o1, delta), s11);
                    s20 = TOps.MultiplyAdd(g0, TLoad.First<TOps, TV>(x + o2), s20); s21 = TOps.MultiplyAdd(g1, TLoad.Second<TOps, TV>(x + o2, delta), s21);
                    s30 = TOps.MultiplyAdd(g0, TLoad.First<TOps, TV>(x + o3), s30); s31 = TOps.MultiplyAdd(g1, TLoad.Second<TOps, TV>(x + o3, delta), s31);
                    s40 = TOps.MultiplyAdd(g0, TLoad.First<TOps, TV>(x + o4), s40); s41 = TOps.MultiplyAdd(g1, TLoad.Second<TOps, TV>(x + o4, delta), s41);
                    s50 = TOps.MultiplyAdd(g0, TLoad.First<TOps, TV>(x + o5), s50); s51 = TOps.MultiplyAdd(g1, TLoad.Second<TOps, TV>(x + o5, delta), s51);
                    if (TOps.TileRows > 6)
                    {
                        s60 = TOps.MultiplyAdd(g0, TLoad.First<TOps, TV>(x + o6), s60); s61 = TOps.MultiplyAdd(g1, TLoad.Second<TOps, TV>(x + o6, delta), s61);
                        s70 = TOps.MultiplyAdd(g0, TLoad.First<TOps, TV>(x + o7), s70); s71 = TOps.MultiplyAdd(g1, TLoad.Second<TOps, TV>(x + o7, delta), s71);
                        s80 = TOps.MultiplyAdd(g0, TLoad.First<TOps, TV>(x + o8), s80); s81 = TOps.MultiplyAdd(g1, TLoad.Second<TOps, TV>(x + o8, delta), s81);
                        s90 = TOps.MultiplyAdd(g0, TLoad.First<TOps, TV>(x + o9), s90); s91 = TOps.MultiplyAdd(g1, TLoad.Second<TOps, TV>(x + o9, delta), s91);
                        s100 = TOps.MultiplyAdd(g0, TLoad.First<TOps, TV>(x + o10), s100); s101 = TOps.MultiplyAdd(g1, TLoad.Second<TOps, TV>(x + o10, delta), s101);
                        s110 = TOps.MultiplyAdd(g0, TLoad.First<TOps, TV>(x + o11), s110); s111 = TOps.MultiplyAdd(g1, TLoad.Second<TOps, TV>(x + o11, delta), s111);
                    }
                }
            }
            // A full tile adds straight into the sums; a partial one is stored to a scratch tile and its valid rows
            // added from there. No calls here: one would make the JIT keep the accumulators on the stack.
            if (valid == TOps.TileRows)
            {
                AddTo<TOps, TV>(sum0 + (r + 0) * 16L, s00); if (TOps.Lanes < 16 || second) AddTo<TOps, TV>(sum1 + (r + 0) * 16L, s01);
                AddTo<TOps, TV>(sum0 + (r + 1) * 16L, s10); if (TOps.Lanes < 16 || second) AddTo<TOps, TV>(sum1 + (r + 1) * 16L, s11);
                AddTo<TOps, TV>(sum0 + (r + 2) * 16L, s20); if (TOps.Lanes < 16 || second) AddTo<TOps, TV>(sum1 + (r + 2) * 16L, s21);
                AddTo<TOps, TV>(sum0 + (r + 3) * 16L, s30); if (TOps.Lanes < 16 || second) AddTo<TOps, TV>(sum1 + (r + 3) * 16L, s31);
                AddTo<TOps, TV>(sum0 + (r + 4) * 16L, s40); if (TOps.Lanes < 16 || second) AddTo<TOps, TV>(sum1 + (r + 4) * 16L, s41);
                AddTo<TOps, TV>(sum0 + (r + 5) * 16L, s50); if (TOps.Lanes < 16 || second) AddTo<TOps, TV>(sum1 + (r + 5) * 16L, s51);
                if (TOps.TileRows > 6)
                {
                    AddTo<TOps, TV>(sum0 + (r + 6) * 16L, s60); if (TOps.Lanes < 16 || second) AddTo<TOps, TV>(sum1 + (r + 6) * 16L, s61);
                    AddTo<TOps, TV>(sum0 + (r + 7) * 16L, s70); if (TOps.Lanes < 16 || second) AddTo<TOps, TV>(sum1 + (r + 7) * 16L, s71);
                    AddTo<TOps, TV>(sum0 + (r + 8) * 16L, s80); if (TOps.Lanes < 16 || second) AddTo<TOps, TV>(sum1 + (r + 8) * 16L, s81);
                    AddTo<TOps, TV>(sum0 + (r + 9) * 16L, s90); if (TOps.Lanes < 16 || second) AddTo<TOps, TV>(sum1 + (r + 9) * 16L, s91);
                    AddTo<TOps, TV>(sum0 + (r + 10) * 16L, s100); if (TOps.Lanes < 16 || second) AddTo<TOps, TV>(sum1 + (r + 10) * 16L, s101);
                    AddTo<TOps, TV>(sum0 + (r + 11) * 16L, s110); if (TOps.Lanes < 16 || second) AddTo<TOps, TV>(sum1 + (r + 11) * 16L, s111);
                }
                continue;
            }
            TOps.Store(partial + 0 * 2 * L, s00); TOps.Store(partial + 0 * 2 * L + L, s01);
            TOps.Store(partial + 1 * 2 * L, s10); TOps.Store(partial + 1 * 2 * L + L, s11);
            TOps.Store(partial + 2 * 2 * L, s20); TOps.Store(partial + 2 * 2 * L + L, s21);
            TOps.Store(partial + 3 * 2 * L, s30); TOps.Store(partial + 3 * 2 * L + L, s31);
            TOps.Store(partial + 4 * 2 * L, s40); TOps.Store(partial + 4 * 2 * L + L, s41);
            TOps.Store(partial + 5 * 2 * L, s50); TOps.Store(partial + 5 * 2 * L + L, s51);
            if (TOps.TileRows > 6)
            {
                TOps.Store(partial + 6 * 2 * L, s60); TOps.Store(partial + 6 * 2 * L + L, s61);
                TOps.Store(partial + 7 * 2 * L, s70); TOps.Store(partial + 7 * 2 * L + L, s71);
                TOps.Store(partial + 8 * 2 * L, s80); TOps.Store(partial + 8 * 2 * L + L, s81);
                TOps.Store(partial + 9 * 2 * L, s90); TOps.Store(partial + 9 * 2 * L + L, s91);
                TOps.Store(partial + 10 * 2 * L, s100); TOps.Store(partial + 10 * 2 * L + L, s101);
                TOps.Store(partial + 11 * 2 * L, s110); TOps.Store(partial + 11 * 2 * L + L, s111);
            }
            for (int k = 0; k < valid; k++)
            {
                AddTo<TOps, TV>(sum0 + (r + k) * 16L, TOps.Load(partial + k * 2 * L));
                if (TOps.Lanes < 16 || second) AddTo<TOps, TV>(sum1 + (r + k) * 16L, TOps.Load(partial + k * 2 * L + L));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddTo<TOps, TV>(float* o, TV value) where TOps : struct, IVectorOps<TV> where TV : struct =>
        TOps.Store(o, TOps.Add(TOps.Load(o), value));
}
