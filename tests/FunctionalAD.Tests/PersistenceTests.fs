/// Safetensors files, Params save/load, checkpoints: round trips, the format byte by byte, corruption, atomicity, resume.
module FunctionalAD.Tests.PersistenceTests

open System
open System.IO
open System.Text
open System.Text.Json
open Expecto
open FunctionalAD
open FunctionalAD.Data
open FunctionalAD.Persistence

let private tempDir () =
    let d = Path.Combine(Path.GetTempPath(), "fad-persist-" + Guid.NewGuid().ToString("N"))
    Directory.CreateDirectory d |> ignore
    d

let private sameBits (a: Tensor) (b: Tensor) =
    a.DType = b.DType && a.Shape = b.Shape &&
    (match a.DType with
     | DType.Float32 -> a.ToArray<float32>() |> Array.map BitConverter.SingleToInt32Bits = (b.ToArray<float32>() |> Array.map BitConverter.SingleToInt32Bits)
     | DType.Float64 -> a.ToArray<float>() |> Array.map BitConverter.DoubleToInt64Bits = (b.ToArray<float>() |> Array.map BitConverter.DoubleToInt64Bits)
     | DType.Int32 -> a.ToArray<int>() = b.ToArray<int>()
     | DType.Int64 -> a.ToArray<int64>() = b.ToArray<int64>()
     | _ -> a.ToArray<bool>() = b.ToArray<bool>())

let private kv (n: string) (t: Tensor) = Collections.Generic.KeyValuePair(n, t)

let private sample () =
    [ kv "f32" (Tensor.FromArray([| 1.5f; -2.0f; Single.NaN; Single.PositiveInfinity; 0.0f; -0.0f |], 2, 3))
      kv "f64" (Tensor.FromArray([| Math.PI; -1e300 |], 2))
      kv "i32" (Tensor.FromArray([| Int32.MinValue; 7; Int32.MaxValue |], 3))
      kv "i64" (Tensor.FromArray([| Int64.MinValue; Int64.MaxValue |], 2, 1))
      kv "bool" (Tensor.FromArray([| true; false; true |], 3))
      kv "scalar" (Tensor.Scalar 4.25)
      kv "empty" (Tensor.Zeros([| 2; 0; 3 |], DType.Int64))
      kv "l1.w" (Tensor.FromArray([| 1.0f; 2.0f |], 1, 2)) ]

let private small () =
    SafeTensors.Serialize([ kv "a" (Tensor.FromArray([| 1.0f; 2.0f; 3.0f |], 3)); kv "b" (Tensor.FromArray([| 5L |], 1)) ], readOnlyDict [ "note", "x" ])

let private refuses (bytes: byte[]) =
    try
        SafeTensors.Deserialize(bytes, "test.safetensors", ChecksumPolicy.Required) |> ignore
        false
    with :? CorruptFileException as e -> e.Message.StartsWith "test.safetensors: " && e.Problem.Length > 10

let roundTrips =
    testList "safetensors round trips" [
        testCase "every dtype, 0-D and empty shapes, NaN and -0 keep their bits" <| fun () ->
            let file = SafeTensors.Deserialize(SafeTensors.Serialize(sample ()), "mem", ChecksumPolicy.Required)
            Expect.isTrue file.Verified "checksum verified"
            for e in sample () do
                Expect.isTrue (sameBits e.Value file.[e.Key]) (sprintf "%s round trip" e.Key)
        testCase "a file built byte by byte from the format description loads with the right values" <| fun () ->
            let header = """{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"n":{"dtype":"I64","shape":[],"data_offsets":[8,16]},"m":{"dtype":"BOOL","shape":[2],"data_offsets":[16,18]}}"""
            let h = Encoding.UTF8.GetBytes header
            let bytes =
                Array.concat [ BitConverter.GetBytes(uint64 h.Length); h
                               BitConverter.GetBytes 0.5f; BitConverter.GetBytes -3.0f; BitConverter.GetBytes 42L; [| 1uy; 0uy |] ]
            let f = SafeTensors.Deserialize bytes
            Expect.isFalse f.Verified "a foreign file has no checksum"
            Expect.equal (f.["w"].ToArray<float32>()) [| 0.5f; -3.0f |] "F32"
            Expect.equal (f.["n"].ToArray<int64>()) [| 42L |] "I64 0-D"
            Expect.equal f.["n"].Shape [||] "0-D shape"
            Expect.equal (f.["m"].ToArray<bool>()) [| true; false |] "BOOL"
            Expect.equal f.Metadata.["format"] "pt" "metadata"
            Expect.throwsT<CorruptFileException> (fun () -> SafeTensors.Deserialize(bytes, "x", ChecksumPolicy.Required) |> ignore) "Required refuses a file without checksum"
        testCase "files the library writes parse with a plain JSON reader and follow the layout" <| fun () ->
            let bytes = SafeTensors.Serialize(sample (), readOnlyDict [ "epoch", "3" ])
            let n = BitConverter.ToUInt64(bytes, 0) |> int
            Expect.equal ((8 + n) % 8) 0 "data 8-byte aligned"
            use doc = JsonDocument.Parse(Encoding.UTF8.GetString(bytes, 8, n))
            let root = doc.RootElement
            Expect.equal (root.GetProperty("__metadata__").GetProperty("epoch").GetString()) "3" "metadata"
            Expect.stringStarts (root.GetProperty("__metadata__").GetProperty(SafeTensors.ChecksumKey).GetString()) "sha256:" "checksum"
            let f32 = root.GetProperty "f32"
            Expect.equal (f32.GetProperty("dtype").GetString()) "F32" "dtype"
            Expect.equal [ for d in f32.GetProperty("shape").EnumerateArray() -> d.GetInt32() ] [ 2; 3 ] "shape"
            let offs = [ for d in f32.GetProperty("data_offsets").EnumerateArray() -> d.GetInt64() ]
            Expect.equal (offs.[1] - offs.[0]) 24L "6 floats"
            Expect.equal (BitConverter.ToSingle(bytes, 8 + n + int offs.[0])) 1.5f "raw little-endian data"
        testCase "Params save/load keeps paths; strict load names every difference; non-strict loads what matches" <| fun () ->
            let dir = tempDir ()
            let path = Path.Combine(dir, "mlp.safetensors")
            let p, _ = Model.init 1UL (nn.mlp [ 3; 4; 2 ] nn.relu)
            Params.save path p
            let q = Params.load path
            Expect.equal (Params.names q) (Params.names p) "names"
            for n in Params.names p do Expect.isTrue (sameBits p.[n] q.[n]) n
            let other, _ = Model.init 1UL (nn.mlp [ 3; 5; 2 ] nn.relu)
            let e = Expect.throwsC (fun () -> Params.loadInto other path |> ignore) (fun e -> e.Message)
            Expect.stringContains e "l0.w" "names the mismatched tensor"
            Expect.stringContains e "[3,4]" "and its shapes"
            let loaded, report = Params.loadMatching other path
            Expect.equal report.Loaded [ "l1.b" ] "only the matching one loaded"
            Expect.equal (List.map fst report.Mismatched) [ "l0.b"; "l0.w"; "l1.w" ] "mismatched"
            Expect.isTrue (sameBits loaded.["l1.b"] p.["l1.b"]) "loaded value"
            Expect.isTrue (sameBits loaded.["l0.w"] other.["l0.w"]) "kept value"
            let renamed = Params.ofList [ "x", p.["l1.b"] ]
            let _, r2 = Params.loadMatching renamed path
            Expect.equal r2.Missing [ "x" ] "missing"
            Expect.equal r2.Unexpected.Length 4 "unexpected"
            Directory.Delete(dir, true)
    ]

let corruption =
    testList "corrupt files are refused" [
        testCase "every truncation point of a small file" <| fun () ->
            let bytes = small ()
            for n in 0 .. bytes.Length - 1 do
                Expect.isTrue (refuses bytes.[.. n - 1]) (sprintf "truncated to %d bytes" n)
        testCase "non-safetensors content is refused with a clear error" <| fun () ->
            for junk in [ Encoding.ASCII.GetBytes "PK\003\004 this is a zip file, not safetensors"; Array.create 64 0uy; Array.create 64 255uy ] do
                Expect.isTrue (refuses junk) "foreign"
            let e = Expect.throwsC (fun () -> SafeTensors.Load("/nonexistent/dir/x.safetensors") |> ignore) id
            Expect.isTrue (e :? FileNotFoundException || e :? DirectoryNotFoundException) "missing file"
        testProperty "a changed byte anywhere (header or data) is refused" <| fun (pos: uint16) (delta: byte) ->
            let bytes = small ()
            let i = int pos % bytes.Length
            let d = if delta = 0uy then 1uy else delta
            let damaged = Array.copy bytes
            damaged.[i] <- damaged.[i] ^^^ d
            refuses damaged
        testCase "without a required checksum, a changed byte is refused or loads the original values" <| fun () ->
            let bytes = small ()
            let g = Generator 5UL
            for _ in 1 .. 300 do
                let damaged = Array.copy bytes
                let i = int (g.NextInt64(0L, int64 bytes.Length))
                damaged.[i] <- damaged.[i] ^^^ byte (g.NextInt64(1L, 256L))
                try
                    let f = SafeTensors.Deserialize(damaged, "t", ChecksumPolicy.IfPresent)
                    Expect.equal (f.["a"].ToArray<float32>()) [| 1.0f; 2.0f; 3.0f |] "never wrong values"
                    Expect.equal (f.["b"].ToArray<int64>()) [| 5L |] "never wrong values"
                with :? CorruptFileException -> ()
    ]

/// Writes checkpoints in a loop until killed (run in a child process by the atomicity test).
let writeForever (path: string) =
    let mutable k = 0
    while true do
        k <- k + 1
        Params.save path (Params.ofList [ "w", Tensor.Full([| 1 <<< 21 |], float k); "k", Tensor.Scalar(float k) ])
        if k = 2 then Console.Out.WriteLine "ready"; Console.Out.Flush()

let atomicity =
    testList "atomic writes" [
        testCase "killing a process while it writes leaves the previous file intact" <| fun () ->
            let dir = tempDir ()
            let path = Path.Combine(dir, "ckpt.safetensors")
            let exe = Environment.ProcessPath
            let entry = Reflection.Assembly.GetEntryAssembly().Location
            for attempt in 1 .. 3 do
                let psi = Diagnostics.ProcessStartInfo(exe, RedirectStandardOutput = true, UseShellExecute = false)
                if Path.GetFileNameWithoutExtension(exe) = "dotnet" then psi.ArgumentList.Add entry
                psi.ArgumentList.Add "--write-checkpoints-forever"
                psi.ArgumentList.Add path
                use child = Diagnostics.Process.Start psi
                Expect.equal (child.StandardOutput.ReadLine()) "ready" "child started writing"
                Threading.Thread.Sleep(37 * attempt)
                child.Kill()
                child.WaitForExit()
                let f = SafeTensors.Load(path, ChecksumPolicy.Required)
                let k = f.["k"].Item()
                Expect.isTrue (f.["w"].ToDoubleArray() |> Array.forall ((=) k)) "one complete version"
            Directory.Delete(dir, true)
    ]

let private mlp = nn.mlp [ 2; 16; 1 ] nn.tanh

let private regression () =
    let g = Generator 11UL
    let x = Tensor.Rand([| 96; 2 |], g) * 2.0 - 1.0
    x, (x.Select(1, 0) * x.Select(1, 1)).Reshape([| 96; 1 |])

exception private Crash

let checkpoints =
    testList "checkpoints" [
        testCase "checkpoint round trip: params, Adam moments, step, position, generator, model state" <| fun () ->
            let dir = tempDir ()
            let path = Path.Combine(dir, "c.ckpt")
            let p, apply = Model.init 3UL mlp
            let x, y = regression ()
            let opt = Optim.adam 0.01
            let g = Tree.grad (fun q -> Loss.mse (apply q x) y) p
            let p1, s1 = Optim.step opt (Optim.init opt p) p g
            let gen = Generator 9UL
            gen.NextNormal() |> ignore
            let c = { Params = p1; Optimizer = s1; ModelState = [| Tensor.Ones [| 3 |] |]; Position = LoaderPosition(2, 5)
                      Generator = Some gen.State; Metadata = Map.ofList [ "note", "hi" ] }
            Checkpoint.save path c
            let c2 = Checkpoint.load p path
            for n in Params.names p1 do Expect.isTrue (sameBits p1.[n] c2.Params.[n]) n
            Expect.equal c2.Optimizer.Step 1 "step"
            Expect.equal c2.Optimizer.Slots.Length 2 "Adam has two slots"
            for k in 0 .. 1 do Array.iter2 (fun a b -> Expect.isTrue (sameBits a b) "slot") s1.Slots.[k] c2.Optimizer.Slots.[k]
            Expect.equal c2.Position (LoaderPosition(2, 5)) "position"
            Expect.equal c2.Metadata.["note"] "hi" "metadata"
            Expect.equal c2.ModelState.Length 1 "model state"
            let resumed = Generator.FromState c2.Generator.Value
            Expect.equal (resumed.NextNormal(), resumed.NextUInt64()) (gen.NextNormal(), gen.NextUInt64()) "generator continues"
            let other, _ = Model.init 3UL (nn.mlp [ 2; 8; 1 ] nn.tanh)
            Expect.throwsT<LoadMismatchException> (fun () -> Checkpoint.load other path |> ignore) "another model"
            File.WriteAllBytes(path, (File.ReadAllBytes path).[.. 100])
            Expect.throwsT<CorruptFileException> (fun () -> Checkpoint.load p path |> ignore) "truncated checkpoint"
            Directory.Delete(dir, true)
        testCase "a run stopped at any step and resumed ends bit-identical to an uninterrupted run" <| fun () ->
            let dir = tempDir ()
            let p0, apply = Model.init 3UL mlp
            let x, y = regression ()
            let loader = DataLoader.create { DataLoader.defaults with BatchSize = 16; Seed = 4UL } (Dataset.ofTensors (x, y))
            let loss q (xb: Tensor, yb: Tensor) = Loss.mse (apply q xb) yb
            let settings path = { Fit.defaults 3 (Optim.adam 0.01) with Progress = false; CheckpointPath = Some path; CheckpointEverySteps = 1; Resume = true }
            let full, fullState, fullLog = Train.fitLoader { Fit.defaults 3 (Optim.adam 0.01) with Progress = false } loss p0 loader
            Expect.equal fullState.Step 18 "3 epochs of 6 batches"
            for stopAt in [ 1; 6; 7; 13 ] do
                let path = Path.Combine(dir, sprintf "run%d.ckpt" stopAt)
                let crashing = { settings path with Callbacks = [ EverySteps(stopAt, fun s _ _ -> if s = stopAt then raise Crash) ] }
                Expect.throwsT<Crash> (fun () -> Train.fitLoader crashing loss p0 loader |> ignore) "the run dies"
                let resumed, st, log = Train.fitLoader (settings path) loss p0 loader
                Expect.equal st.Step 18 "steps"
                for n in Params.names full do Expect.isTrue (sameBits full.[n] resumed.[n]) (sprintf "stopped at %d: %s bit-identical" stopAt n)
                Expect.equal [ for l in log -> l.TrainLoss ] [ for l in fullLog -> l.TrainLoss ] "same epoch losses"
            Directory.Delete(dir, true)
    ]

let tests = testList "persistence" [ roundTrips; corruption; atomicity; checkpoints ]
