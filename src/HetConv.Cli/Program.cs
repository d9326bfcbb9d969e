using HetConv.Cli;
using HetConv.Runtime;

TorchRuntime.Initialize();
return HetConvCli.Run(args);
