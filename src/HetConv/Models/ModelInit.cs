using HetConv.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace HetConv.Models;

/// <summary>The zoo's weight initialisation: He-normal for every convolution, BN at identity.</summary>
internal static class ModelInit
{
    public static void Apply(nn.Module model)
    {
        using var noGrad = no_grad();
        foreach (var (_, module) in model.named_modules())
        {
            switch (module)
            {
                case TorchSharp.Modules.Conv2d conv:
                    nn.init.kaiming_normal_(conv.weight, mode: nn.init.FanInOut.FanIn, nonlinearity: nn.init.NonlinearityType.ReLU);
                    break;
                case HetConv2d het:
                    // He-normal on the fan-in a heterogeneous filter really has, not the dense M*K^2.
                    double std = Math.Sqrt(2.0 / (het.Pattern.KxkPerFilter * het.KernelSize * het.KernelSize + het.Pattern.PointwisePerFilter));
                    het.KxkWeight.normal_(0, std);
                    het.PointwiseWeight.normal_(0, std);
                    break;
                case TorchSharp.Modules.BatchNorm2d bn:
                    nn.init.constant_(bn.weight, 1);
                    nn.init.constant_(bn.bias, 0);
                    break;
                case TorchSharp.Modules.BatchNorm1d bn:
                    nn.init.constant_(bn.weight, 1);
                    nn.init.constant_(bn.bias, 0);
                    break;
            }
        }
    }
}
