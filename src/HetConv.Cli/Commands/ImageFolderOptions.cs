using System.CommandLine;
using HetConv.Data;

namespace HetConv.Cli.Commands;

/// <summary>The options of commands that read image folders: crop size, bad files, decoding threads.</summary>
internal static class ImageFolderOptions
{
    public static Option<int> ImageSize() => new("--image-size")
    {
        Description = "image folders: size x size crops (training: RandomResizedCrop and flips; testing: resize and centre crop)",
        DefaultValueFactory = _ => ImageFolderSettings.DefaultImageSize,
    };

    public static Option<string> BadImages(string defaultPolicy = "fail")
    {
        var option = new Option<string>("--bad-images")
        {
            Description = "image folders: fail on an image file that cannot be decoded, or skip it (counted and listed)",
            DefaultValueFactory = _ => defaultPolicy,
        };
        option.AcceptOnlyFromAmong("fail", "skip");
        return option;
    }

    public static Option<int?> Workers() => new("--workers")
    {
        Description = "image folders: threads decoding images (default: one per core)",
    };

    public static BadImagePolicy Policy(string name) => name == "skip" ? BadImagePolicy.Skip : BadImagePolicy.Fail;
}
