using System.Globalization;

namespace HetConv.Runtime;

/// <summary>
/// The CPUs this process may really use: those in its affinity mask, capped by its cgroup's CPU quota (cgroup v2
/// <c>cpu.max</c>, v1 <c>cpu.cfs_quota_us</c> / <c>cpu.cfs_period_us</c>, the tightest along the cgroup's path), rounded
/// up. libtorch's default thread count is the machine's core count, blind to both: in a container limited to two
/// CPUs of a 64-core host it would start 32 threads, and every parallel operation would wait at its barrier for
/// threads the quota has stopped. .NET's <see cref="Environment.ProcessorCount"/> follows the same two limits.
/// </summary>
public sealed record CpuBudget(int Affinity, double? Quota)
{
    /// <summary>Threads worth running: the affinity mask's CPUs, no more than the quota rounded up, at least 1.</summary>
    public int Cpus => Math.Max(1, Quota is double q ? Math.Min(Affinity, (int)Math.Ceiling(q - 1e-9)) : Affinity);

    private static readonly Lazy<CpuBudget> current = new(() =>
    {
        try { return Read("/proc/self", "/sys/fs/cgroup"); }
        catch (Exception e) when (e is FormatException or OverflowException or IOException or UnauthorizedAccessException)
        {
            return new CpuBudget(Environment.ProcessorCount, null); // an unreadable file limits nothing
        }
    });

    /// <summary>This process's budget, read once (Linux; elsewhere the processor count, no quota).</summary>
    public static CpuBudget Current => current.Value;

    /// <summary>
    /// Reads the affinity mask from <paramref name="procSelf"/>/status and the quota from the cgroup files under
    /// <paramref name="cgroupRoot"/> for the cgroup named in <paramref name="procSelf"/>/cgroup (parameters for tests).
    /// </summary>
    public static CpuBudget Read(string procSelf, string cgroupRoot)
    {
        int affinity = Environment.ProcessorCount;
        string status = Path.Combine(procSelf, "status");
        if (File.Exists(status))
        {
            foreach (string line in File.ReadLines(status))
                if (line.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal))
                    affinity = ParseCpuList(line["Cpus_allowed_list:".Length..]);
        }
        string cgroups = Path.Combine(procSelf, "cgroup");
        double? quota = File.Exists(cgroups) ? ReadQuota(File.ReadAllLines(cgroups), cgroupRoot) : null;
        return new CpuBudget(affinity, quota);
    }

    /// <summary>Counts the CPUs in a Linux CPU list such as <c>0-3,8,10-11</c>.</summary>
    public static int ParseCpuList(string list)
    {
        int count = 0;
        foreach (string part in list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int dash = part.IndexOf('-');
            if (dash < 0) { _ = int.Parse(part, CultureInfo.InvariantCulture); count++; continue; }
            int first = int.Parse(part[..dash], CultureInfo.InvariantCulture), last = int.Parse(part[(dash + 1)..], CultureInfo.InvariantCulture);
            if (last < first) throw new FormatException($"CPU range {part} runs backwards");
            count += last - first + 1;
        }
        return count;
    }

    /// <summary>CPUs' worth of a cgroup v2 <c>cpu.max</c> ("quota period", or "max period" for none).</summary>
    public static double? ParseCpuMax(string text)
    {
        string[] fields = text.Split(' ', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length == 0 || fields[0] == "max") return null;
        long quota = long.Parse(fields[0], CultureInfo.InvariantCulture);
        long period = fields.Length > 1 ? long.Parse(fields[1], CultureInfo.InvariantCulture) : 100_000;
        return Fraction(quota, period);
    }

    /// <summary>CPUs' worth of a cgroup v1 quota and period in microseconds (quota -1 for none).</summary>
    public static double? ParseCfsQuota(string quota, string period) =>
        Fraction(long.Parse(quota.Trim(), CultureInfo.InvariantCulture), long.Parse(period.Trim(), CultureInfo.InvariantCulture));

    private static double? Fraction(long quota, long period) => quota <= 0 || period <= 0 ? null : (double)quota / period;

    /// <summary>
    /// The tightest quota from the process's cgroup (lines of /proc/self/cgroup) up to the root. Inside a container the
    /// path named may not exist under its own view of the hierarchy: its root is then the process's cgroup.
    /// </summary>
    public static double? ReadQuota(IEnumerable<string> cgroupLines, string cgroupRoot)
    {
        double? tightest = null;
        void Take(double? q) { if (q is double v && (tightest is null || v < tightest)) tightest = v; }
        foreach (string line in cgroupLines)
        {
            // hierarchy-ID:controllers:path; v2 is "0::path".
            string[] fields = line.Split(':', 3);
            if (fields.Length != 3) continue;
            string path = fields[2].TrimStart('/');
            if (fields[0] == "0" && fields[1] == "")
            {
                foreach (string dir in Ancestors(cgroupRoot, path))
                    if (TryRead(Path.Combine(dir, "cpu.max")) is string max) Take(ParseCpuMax(max));
            }
            else if (fields[1].Split(',').Contains("cpu"))
            {
                foreach (string mount in new[] { "cpu", "cpu,cpuacct", "cpuacct,cpu" })
                foreach (string dir in Ancestors(Path.Combine(cgroupRoot, mount), path))
                    if (TryRead(Path.Combine(dir, "cpu.cfs_quota_us")) is string q && TryRead(Path.Combine(dir, "cpu.cfs_period_us")) is string p)
                        Take(ParseCfsQuota(q, p));
            }
        }
        return tightest;
    }

    /// <summary>The cgroup's directory and each parent up to the root (those that exist).</summary>
    private static IEnumerable<string> Ancestors(string root, string path)
    {
        string[] parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (int depth = parts.Length; depth >= 0; depth--)
        {
            string dir = Path.Combine([root, .. parts[..depth]]);
            if (Directory.Exists(dir)) yield return dir;
        }
    }

    private static string? TryRead(string file)
    {
        try { return File.Exists(file) ? File.ReadAllText(file) : null; }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
