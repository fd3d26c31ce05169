// The GPU benchmark cases, the same as gpu/torch_bench.py's: matmul f32 (n = 1024, 4096), elementwise ops over 1e8
// elements, the gradient of sum(sin(x) * x) over 1e7 elements, an MLP training step and the Fashion-MNIST CNN's
// training step. Prints a table, or with --tsv one "case<TAB>ms" line per case (gpu/device-check.sh joins it with
// PyTorch's). With --check it runs the test suite's GPU checks instead (the primitive property table and every
// backend method against the CPU) on gpu:0, passing the remaining arguments to Expecto.
//
//   dotnet run -c Release --project gpu/FunctionalAD.GpuBench              # Device.Gpu(0); exits 2 without a GPU
//   dotnet run -c Release --project gpu/FunctionalAD.GpuBench -- --check   # the GPU test suite on gpu:0
//   dotnet run -c Release --project gpu/FunctionalAD.GpuBench -- --emulated # tiny sizes on ILGPU's CPU accelerator
//                                                                           # (checks the harness, not a measurement)
//   gpu/device-check.sh publishes this as one self-contained file and runs it where there is no .NET SDK.
using System.Diagnostics;
using FunctionalAD;
using FunctionalAD.Gpu;

Gpu.Register();
bool emulated = args.Contains("--emulated"), tsv = args.Contains("--tsv"), check = args.Contains("--check");
if (!emulated && !Gpu.IsAvailable)
{
    Console.WriteLine("no CUDA device: ILGPU found no CUDA or OpenCL GPU on this machine, so there is nothing to " + (check ? "check." : "measure."));
    Console.WriteLine("Devices seen: " + string.Join(", ", Gpu.Devices().Select(d => $"{d.Device} ({d.Accelerator} {d.Name})")));
    Console.WriteLine("Run with --emulated to check the benchmark code on ILGPU's CPU accelerator (timings meaningless).");
    return 2;
}

var device = emulated ? Device.GpuEmulated : Device.Gpu(0);
if (check) return FunctionalAD.Tests.GpuTests.runOnDevice(device, args.Where(a => a is not "--check" and not "--emulated").ToArray());
var backend = Gpu.BackendFor(device);
if (!tsv)
{
    Console.WriteLine($"device {device}: {backend.AcceleratorName}{(emulated ? "  [emulated: sizes shrunk, timings are not GPU figures]" : "")}");
    Console.WriteLine($"{"case",-34} {"ms",10} {"GFLOP/s",10} {"GB/s",10}");
}

// Times body (after one warm-up call that also compiles its kernels); the device is synchronised around each run.
double Time(Action body, int reps)
{
    body(); backend.Synchronize();
    var sw = Stopwatch.StartNew();
    for (int i = 0; i < reps; i++) body();
    backend.Synchronize();
    return sw.Elapsed.TotalMilliseconds / reps;
}

// Rates per millisecond / 1e6 = per second / 1e9; "-" where a case has no meaningful count.
void Report(string name, double ms, double flops, double bytes)
{
    if (tsv) { Console.WriteLine($"{name}\t{ms:F4}"); return; }
    Console.WriteLine($"{name,-34} {ms,10:F3} {(flops > 0 ? (flops / ms / 1e6).ToString("F1") : "-"),10} {(bytes > 0 ? (bytes / ms / 1e6).ToString("F1") : "-"),10}");
}

var g = new Generator(42);
int reps = emulated ? 2 : 10;

foreach (var n in emulated ? new[] { 16, 32 } : new[] { 1024, 4096 })
{
    var a = Tensor.Rand([n, n], g, DType.Float32, device);
    var b = Tensor.Rand([n, n], g, DType.Float32, device);
    double ms = Time(() => a.MatMul(b), reps);
    Report($"matmul f32 n={n}", ms, 2.0 * n * n * n, 3.0 * 4 * n * n);
    Gpu.Free(a); Gpu.Free(b);
}

{
    int n = emulated ? 2_000 : 100_000_000;
    var x = Tensor.Full([n], 1.5, DType.Float32, device);
    var y = Tensor.Full([n], 2.5, DType.Float32, device);
    double ms = Time(() => Gpu.Free(x * y), reps);
    Report($"elementwise x*y f32 n={n:E0}", ms, n, 3.0 * 4 * n);
    ms = Time(() => Gpu.Free(x.Sin()), reps);
    Report($"elementwise sin f32 n={n:E0}", ms, n, 2.0 * 4 * n);
    Gpu.Free(x); Gpu.Free(y);
}

{
    int n = emulated ? 2_000 : 10_000_000;
    var x = Tensor.Rand([n], g, DType.Float32, device);
    double ms = Time(() => Gpu.Free(Transform.Grad(t => (t.Sin() * t).Sum(), x)), reps);
    // forward: sin, mul, sum; backward: cos, two muls, an add (about 8 passes over n floats)
    Report($"grad sum(sin x * x) f32 n={n:E0}", ms, 0, 8.0 * 4 * n);
}

{
    int batch = emulated ? 8 : 512, inputs = emulated ? 8 : 784, hidden = emulated ? 16 : 1024, classes = 10;
    var X = Tensor.Rand([batch, inputs], g, DType.Float32, device);
    var Y = Tensor.Rand([batch, classes], g, DType.Float32, device);
    var w1 = Tensor.Randn([inputs, hidden], g, DType.Float32, device) * 0.05;
    var b1 = Tensor.Zeros([hidden], DType.Float32, device);
    var w2 = Tensor.Randn([hidden, classes], g, DType.Float32, device) * 0.05;
    var b2 = Tensor.Zeros([classes], DType.Float32, device);
    void Step()
    {
        var (_, grads) = Transform.ValueAndGrad(p => ((X.MatMul(p[0]) + p[1]).Tanh().MatMul(p[2]) + p[3] - Y).Square().Mean(), w1, b1, w2, b2);
        w1 -= grads[0] * 0.01; b1 -= grads[1] * 0.01; w2 -= grads[2] * 0.01; b2 -= grads[3] * 0.01;
    }
    double ms = Time(Step, reps);
    // forward and two backward products per layer
    Report($"MLP step {inputs}-{hidden}-{classes} batch {batch}", ms, 3 * 2.0 * batch * ((double)inputs * hidden + hidden * classes), 0);
}
if (!emulated) // ILGPU's CPU accelerator needs minutes for this one; the test suite covers conv on it
{
    // The Fashion-MNIST CNN of examples/09: conv 1->32 3x3, ReLU, max-pool 2, conv 32->64 3x3, ReLU, max-pool 2,
    // flatten, linear 1600->128, ReLU, linear 128->10; cross-entropy, SGD, batch 64.
    int batch = 64;
    var X = Tensor.Rand([batch, 1, 28, 28], g, DType.Float32, device);
    var labels = Enumerable.Range(0, batch).Select(i => (float)(i % 10)).ToArray();
    var onehot = Tensor.FromArray(Enumerable.Range(0, batch * 10).Select(i => i % 10 == (int)labels[i / 10] ? 1f : 0f).ToArray(), [batch, 10]).ToDevice(device);
    Tensor Init(int[] shape, int fanIn) => (Tensor.Rand(shape, g, DType.Float32, device) * 2.0 - 1.0) * (1.0 / Math.Sqrt(fanIn));
    var ps = new[] { Init([32, 1, 3, 3], 9), Init([32], 9), Init([64, 32, 3, 3], 288), Init([64], 288),
                     Init([1600, 128], 1600), Init([128], 1600), Init([128, 10], 128), Init([10], 128) };
    Tensor Loss(Tensor[] p)
    {
        var h = X.Conv2d(p[0], p[1]).Relu().MaxPool2d([2, 2]);
        h = h.Conv2d(p[2], p[3]).Relu().MaxPool2d([2, 2]);
        var logits = (h.Reshape([batch, 1600]).MatMul(p[4]) + p[5]).Relu().MatMul(p[6]) + p[7];
        return -(logits.LogSoftmax(1) * onehot).Sum([1]).Mean();
    }
    void Step()
    {
        var (_, grads) = Transform.ValueAndGrad(Loss, ps);
        for (int i = 0; i < ps.Length; i++) ps[i] -= grads[i] * 0.01;
    }
    double ms = Time(Step, reps);
    // forward and two backward products of each conv and linear layer
    double flops = 3 * 2.0 * batch * (26 * 26 * 32 * 9.0 + 11 * 11 * 64 * 288.0 + 1600 * 128.0 + 128 * 10.0);
    Report($"CNN step fashion-mnist batch {batch}", ms, flops, 0);
}
return 0;
