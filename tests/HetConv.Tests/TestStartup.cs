using System.Runtime.CompilerServices;
using HetConv.Runtime;

namespace HetConv.Tests;

internal static class TestStartup
{
    [ModuleInitializer]
    internal static void Initialize() => TorchRuntime.Initialize();
}
