// The MLP 784-256-10 SGD step (the bench's fad_mlp_784_256_10_b64_sgd_step) in a plain `dotnet fsi` session: what a
// notebook or script user gets, under whatever GC the session has (.NET's default unless DOTNET_GC* variables say
// otherwise). Prints, per window of steps, the median and 90th-percentile step time, the full (gen2) collections, the
// minor page faults and the resident memory.
//
//   dotnet fsi build.fsx -- -t Build
//   dotnet fsi bench/fsi-mlp-steps.fsx [steps, default 20000] [threads, default all]
//   DOTNET_GCLOHThreshold=0x4000000 DOTNET_gcServer=1 DOTNET_GCHeapCount=1 DOTNET_GCName=libclrgc.so dotnet fsi bench/fsi-mlp-steps.fsx
#r "../src/FunctionalAD/bin/Release/net10.0/System.Numerics.Tensors.dll"
#r "../src/FunctionalAD/bin/Release/net10.0/FunctionalAD.Core.dll"

open System
open System.Diagnostics
open FunctionalAD
open FunctionalAD.Backends

let args = fsi.CommandLineArgs |> Array.skip 1
let steps = if args.Length > 0 then int args.[0] else 20_000
if args.Length > 1 then Parallelism.Limit(int args.[1]) |> ignore

/// Minor page faults of this process so far (field 10 of /proc/self/stat; 0 where there is none).
let minorFaults () =
    try
        let stat = IO.File.ReadAllText "/proc/self/stat"
        let fields = stat.Substring(stat.LastIndexOf ')' + 2).Split ' '
        int64 fields.[7]
    with _ -> 0L

let g = Generator(1UL)
let uniform (shape: int[]) (fanIn: int) = (Tensor.Rand(shape, g) * 2.0 - 1.0) / sqrt (float fanIn)
let mutable ps = [| uniform [| 256; 784 |] 784; uniform [| 256 |] 784; uniform [| 10; 256 |] 256; uniform [| 10 |] 256 |]
let x = Tensor.Randn([| 64; 784 |], g)
let target = Tensor.Randint(0L, 10L, [| 64 |], g).OneHot(10)
let loss (p: Tensor[]) =
    let hidden = (x.MatMul(p.[0].T) + p.[1]).Relu()
    let logits = hidden.MatMul(p.[2].T) + p.[3]
    -(logits.LogSoftmax(-1) * target).Sum() / 64.0
let rule = SgdRule(LearningRate = 0.01)

let window = max 1 (steps / 10)
let times = Collections.Generic.List<float>()
let gcConfig = GC.GetConfigurationVariables()
let setting key = match gcConfig.TryGetValue key with | true, v -> string v | _ -> "?"
printfn "# GC: server %s, concurrent %s, LOH threshold %s, heaps %s; %d threads"
    (setting "ServerGC") (setting "ConcurrentGC") (setting "LOHThreshold") (setting "HeapCount") Parallelism.MaxThreads
printfn "steps\tmedian_us\tp90_us\tgen2\tminor_faults\trss_mib"
let mutable gen2, faults = GC.CollectionCount 2, minorFaults ()
let sw = Stopwatch()
for step in 1 .. steps do
    sw.Restart()
    let struct (_, grads) = Transform.ValueAndGrad(Func<Tensor[], Tensor> loss, ps)
    ps <- Array.init ps.Length (fun i -> rule.Update(ps.[i], grads.[i], [||], 0))
    times.Add sw.Elapsed.TotalSeconds
    if step % window = 0 then
        let sorted = times |> Seq.sort |> Array.ofSeq
        let g2, f = GC.CollectionCount 2, minorFaults ()
        printfn "%d\t%.0f\t%.0f\t%d\t%d\t%.0f" step (sorted.[sorted.Length / 2] * 1e6) (sorted.[sorted.Length * 9 / 10] * 1e6)
            (g2 - gen2) (f - faults) (float (Process.GetCurrentProcess().WorkingSet64) / 1048576.0)
        gen2 <- g2; faults <- f
        times.Clear()
