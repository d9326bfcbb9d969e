using BenchmarkDotNet.Running;
using HetConv.Runtime;

TorchRuntime.Initialize();
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
