using HetConv.Models;

namespace HetConv.Profiling;

/// <summary>What a paper's table reports for one network.</summary>
public enum PaperQuantity
{
    /// <summary>FLOPs in millions (or billions where <see cref="PaperRow.FlopsInBillions"/>).</summary>
    Flops,

    /// <summary>FLOPs reduced against the table's first (P1) row, in percent.</summary>
    FlopsReduced,

    /// <summary>Parameters in millions.</summary>
    Params,

    /// <summary>Parameters reduced against the table's first (P1) row, in percent.</summary>
    ParamsReduced,
}

/// <summary>
/// One network of one of the paper's tables: which zoo model and options it is, and the values the paper prints,
/// as printed (their decimals tell the paper's precision). The first row of each table is its P1 baseline.
/// </summary>
public sealed record PaperRow(
    string Table,
    string Network,
    string Model,
    ConvOptions Options,
    IReadOnlyDictionary<PaperQuantity, string> Values,
    bool FlopsInBillions = false);

/// <summary>The FLOPs and parameter columns of the HetConv paper's Tables 1 and 3 to 7 (Table 2 repeats Table 1).</summary>
public static class PaperTables
{
    public static IReadOnlyList<PaperRow> Rows { get; } = Build();

    public static IReadOnlyDictionary<string, string> Titles { get; } = new Dictionary<string, string>
    {
        ["1"] = "Table 1: VGG-16 on CIFAR-10 (3x32x32)",
        ["3"] = "Table 3: ResNet-56 on CIFAR-10 (3x32x32)",
        ["4"] = "Table 4: MobileNet on CIFAR-10 (3x32x32)",
        ["5"] = "Table 5: VGG-16 on ImageNet (3x224x224)",
        ["6"] = "Table 6: ResNet-34 on ImageNet (3x224x224)",
        ["7"] = "Table 7: ResNet-50 on ImageNet (3x224x224)",
    };

    private static List<PaperRow> Build()
    {
        var rows = new List<PaperRow>();
        var p1 = ConvOptions.Standard;
        ConvOptions P(int part) => ConvOptions.HetConv(part);

        void Vgg(string suffix, ConvOptions o, string flops, string? flopsReduced, string parameters, string? paramsReduced) =>
            rows.Add(new("1", "VGG-16" + suffix, "vgg16-cifar", o, Values(flops, flopsReduced, parameters, paramsReduced)));
        Vgg("_P1", p1, "313.74", null, "15.00", null);
        Vgg("_P1_SE", p1.WithSqueezeExcitation(), "314.19", null, "15.22", null);
        Vgg("_P2", P(2), "175.23", "44.15", "8.45", "43.68");
        Vgg("_P2_SE", P(2).WithSqueezeExcitation(), "175.67", "44.00", "8.68", "42.99");
        Vgg("_P4", P(4), "105.98", "66.22", "5.17", "65.45");
        Vgg("_P4_SE", P(4).WithSqueezeExcitation(), "106.42", "66.08", "5.41", "64.48");
        Vgg("_GWC4_PWC", ConvOptions.GroupwisePointwise(4), "107.67", "65.68", "5.42", null);
        Vgg("_P8", P(8), "71.35", "77.26", "3.54", "76.40");
        Vgg("_P8_SE", P(8).WithSqueezeExcitation(), "71.79", "77.12", "3.77", "75.22");
        Vgg("_P16", P(16), "54.04", "82.78", "2.72", "81.86");
        Vgg("_P16_SE", P(16).WithSqueezeExcitation(), "54.48", "82.64", "2.95", "80.59");
        Vgg("_P32", P(32), "45.38", "85.54", "2.31", "84.58");
        Vgg("_P32_SE", P(32).WithSqueezeExcitation(), "45.82", "85.39", "2.54", "83.28");
        Vgg("_P64", P(64), "41.05", "86.92", "2.11", "85.95");
        Vgg("_P64_SE", P(64).WithSqueezeExcitation(), "41.49", "86.77", "2.34", "84.63");
        Vgg("_DWC_PWC", ConvOptions.DepthwisePointwise, "38.53", "87.72", "1.97", null);
        Vgg("_PC", ConvOptions.PerChannel, "38.18", "87.83", "1.93", null);
        Vgg("_PC_SE", ConvOptions.PerChannel.WithSqueezeExcitation(), "38.62", "87.69", "2.15", null);

        // Table 3 prints only reductions; the P1 total (126.01M) is in the text of Section 4.3.
        void ResNet56(string suffix, ConvOptions o, string? flops, string? flopsReduced) =>
            rows.Add(new("3", "ResNet-56" + suffix, "resnet56", o, Values(flops, flopsReduced, null, null)));
        ResNet56("_P1", p1, "126.01", null);
        ResNet56("_P2", P(2), null, "44.30");
        ResNet56("_P4", P(4), null, "66.45");
        ResNet56("_P2_SE", P(2).WithSqueezeExcitation(), null, "44.27");
        ResNet56("_P4_SE", P(4).WithSqueezeExcitation(), null, "66.42");

        rows.Add(new("4", "MobileNet", "mobilenet-cifar", ConvOptions.DepthwisePointwise, Values("46.36", null, null, null)));
        rows.Add(new("4", "MobileNet_P32", "mobilenet-cifar", P(32), Values("55.94", null, null, null)));
        rows.Add(new("4", "MobileNet_P32_SE", "mobilenet-cifar", P(32).WithSqueezeExcitation(), Values("56.91", null, null, null)));

        rows.Add(new("5", "VGG-16_P1", "vgg16", p1, Values(null, null, null, null)));
        rows.Add(new("5", "VGG-16_P4", "vgg16", P(4), Values(null, "65.8", null, null)));

        rows.Add(new("6", "ResNet-34_P1", "resnet34", p1, Values("3.6", null, null, null), FlopsInBillions: true));
        rows.Add(new("6", "ResNet-34_P4", "resnet34", P(4), Values("1.3", "64.48", null, null), FlopsInBillions: true));
        rows.Add(new("6", "ResNet-34_P4_SE", "resnet34", P(4).WithSqueezeExcitation(), Values("1.3", "64.48", null, null), FlopsInBillions: true));

        rows.Add(new("7", "ResNet-50_P1", "resnet50", p1, Values("4.09", null, null, null), FlopsInBillions: true));
        rows.Add(new("7", "ResNet-50_P4", "resnet50", P(4), Values("2.85", "30.32", null, null), FlopsInBillions: true));
        return rows;
    }

    private static Dictionary<PaperQuantity, string> Values(string? flops, string? flopsReduced, string? parameters, string? paramsReduced)
    {
        var values = new Dictionary<PaperQuantity, string>();
        if (flops is not null) values[PaperQuantity.Flops] = flops;
        if (flopsReduced is not null) values[PaperQuantity.FlopsReduced] = flopsReduced;
        if (parameters is not null) values[PaperQuantity.Params] = parameters;
        if (paramsReduced is not null) values[PaperQuantity.ParamsReduced] = paramsReduced;
        return values;
    }
}
