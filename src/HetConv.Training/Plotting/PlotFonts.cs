namespace HetConv.Plotting;

/// <summary>
/// Gives ScottPlot a font. Its SkiaSharp natives (the NoDependencies build) do not look fonts up through
/// fontconfig, so without a registered font file plots come out without any text.
/// </summary>
public static class PlotFonts
{
    /// <summary>DejaVu Sans from Debian's fonts-dejavu-core package.</summary>
    public const string DejaVuSansPath = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

    public const string InstallHint = "apt-get install -y fonts-dejavu-core (as root, or through sudo), or ./setup.sh";

    private const string FontName = "DejaVu Sans";
    private static readonly Lazy<bool> registered = new(Register);

    /// <summary>Registers the font once; false when the file is missing (plots are then drawn without text).</summary>
    public static bool EnsureRegistered() => registered.Value;

    private static bool Register()
    {
        if (!File.Exists(DejaVuSansPath)) return false;
        ScottPlot.Fonts.AddFontFile(FontName, DejaVuSansPath, bold: false, italic: false);
        string bold = Path.Combine(Path.GetDirectoryName(DejaVuSansPath)!, "DejaVuSans-Bold.ttf");
        if (File.Exists(bold))
            ScottPlot.Fonts.AddFontFile(FontName, bold, bold: true, italic: false);
        ScottPlot.Fonts.Default = FontName;
        ScottPlot.Fonts.Sans = FontName;
        return true;
    }
}
