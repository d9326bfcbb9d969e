using System.Globalization;
using System.Text.RegularExpressions;

namespace HetConv.Studies;

/// <summary>
/// A variant named as the paper names it (<see cref="Models.ConvOptions.PaperSuffix"/> without the underscore):
/// P1 (standard), P2, P4... (HetConv), PC (per channel), GWC4_PWC, DWC_PWC, each optionally followed by _SE; as the
/// words a training run takes (conv, part, groups, SE).
/// </summary>
public sealed partial record StudyVariant(string Name, string Conv, string? Part, int? Groups, bool SqueezeExcitation)
{
    /// <summary>HetConv's part as a number (1 for the standard convolution), or null for PC and the baselines.</summary>
    public int? NumericPart => Conv == "standard" ? 1 : Conv == "hetconv" && int.TryParse(Part, out int p) ? p : null;

    public static StudyVariant Parse(string name)
    {
        var m = Pattern().Match(name.Trim());
        if (!m.Success)
            throw Unknown(name);
        bool se = m.Groups["se"].Success;
        string suffix = se ? "_SE" : "";
        if (m.Groups["p"].Success)
        {
            string p = m.Groups["p"].Value.ToUpperInvariant();
            if (p == "C") return new StudyVariant("PC" + suffix, "hetconv", "C", null, se);
            int part = int.Parse(p, NumberStyles.None, CultureInfo.InvariantCulture);
            if (part < 1) throw Unknown(name);
            return part == 1
                ? new StudyVariant("P1" + suffix, "standard", null, null, se)
                : new StudyVariant($"P{part}{suffix}", "hetconv", p, null, se);
        }
        if (m.Groups["g"].Success)
        {
            int groups = int.Parse(m.Groups["g"].Value, NumberStyles.None, CultureInfo.InvariantCulture);
            if (groups < 1) throw Unknown(name);
            return new StudyVariant($"GWC{groups}_PWC{suffix}", "gwc-pwc", null, groups, se);
        }
        return new StudyVariant("DWC_PWC" + suffix, "dwc-pwc", null, null, se);
    }

    private static ArgumentException Unknown(string name) => new(
        $"unknown variant '{name}'; use the paper's names: P1, P2, P4, P8, PC, GWC4_PWC, DWC_PWC (any P >= 1, any groups >= 1), each optionally with _SE (e.g. P4_SE).");

    [GeneratedRegex(@"^(?:P(?<p>\d+|C)|GWC(?<g>\d+)_PWC|DWC_PWC)(?<se>_SE)?$", RegexOptions.IgnoreCase)]
    private static partial Regex Pattern();
}
