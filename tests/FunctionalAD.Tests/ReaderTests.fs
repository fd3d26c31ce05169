/// The data readers (issue 16): NumPy .npy/.npz, IDX (MNIST / Fashion-MNIST) and CSV, on files built byte by byte
/// from the formats' descriptions, round trips, and damaged files refused by name.
module FunctionalAD.Tests.ReaderTests

open System
open System.IO
open System.IO.Compression
open System.Text
open Expecto
open FunctionalAD
open FunctionalAD.Data
open FunctionalAD.Persistence

let private temp (name: string) = Path.Combine(Path.GetTempPath(), sprintf "fad-readers-%s-%s" (Guid.NewGuid().ToString "N") name)

/// A .npy file as NumPy 1.x writes it: magic, version 1.0, little-endian header length, the header dict padded with
/// spaces to a multiple of 64 bytes and ended by a newline, then the data.
let private npyBytes (descr: string) (shape: string) (data: byte[]) =
    let dict = sprintf "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" descr shape
    let total = (10 + dict.Length + 1 + 63) / 64 * 64
    let header = dict.PadRight(total - 10 - 1) + "\n"
    Array.concat [ [| 0x93uy |]; Encoding.ASCII.GetBytes "NUMPY"; [| 1uy; 0uy |]; BitConverter.GetBytes(uint16 header.Length); Encoding.ASCII.GetBytes header; data ]

let private bigEndian (v: int) = BitConverter.GetBytes v |> Array.rev

let tests =
    testList "data readers" [
        testCase ".npy built byte by byte loads with the right values" <| fun () ->
            let path = temp "a.npy"
            File.WriteAllBytes(path, npyBytes "<f8" "(2, 3)" (Array.init 6 float |> Array.collect BitConverter.GetBytes))
            let t = Npy.Load path
            Expect.sequenceEqual t.Shape [| 2; 3 |] "shape"
            Expect.sequenceEqual (t.ToArray<float>()) [| 0.0 .. 5.0 |] "values"
            File.WriteAllBytes(path, npyBytes "|u1" "(3,)" [| 0uy; 128uy; 255uy |])
            Expect.sequenceEqual ((Npy.Load path).ToArray<int>()) [| 0; 128; 255 |] "uint8 as Int32"
            File.Delete path
        testCase ".npy and .npz round trip every dtype, 0-D and empty" <| fun () ->
            let tensors =
                [ "f32", (tensor [ [ 1.5f; -0.0f ]; [ nanf; infinityf ] ])
                  "f64", scalar 2.25
                  "i32", tensor [ 1; -2; Int32.MaxValue ]
                  "i64", tensor [ Int64.MinValue; 7L ]
                  "bool", tensor [ true; false; true ]
                  "empty", Tensor.Zeros([| 0; 3 |], DType.Float64) ]
            let bits (t: Tensor) = (t.To DType.Float64).ToArray<float>() |> Array.map BitConverter.DoubleToInt64Bits
            for name, t in tensors do
                let path = temp (name + ".npy")
                Npy.Save(path, t)
                let back = Npy.Load path
                Expect.equal back.DType t.DType (name + " dtype")
                Expect.sequenceEqual back.Shape t.Shape (name + " shape")
                Expect.sequenceEqual (bits back) (bits t) (name + " values, bit for bit")
                File.Delete path
            let npz = temp "all.npz"
            Npy.SaveNpz(npz, tensors |> List.map (fun (n, t) -> Collections.Generic.KeyValuePair(n, t)))
            let back = Npy.LoadNpz npz
            for name, t in tensors do Expect.sequenceEqual (bits back.[name]) (bits t) (name + " in the .npz")
            File.Delete npz
        testCase "damaged .npy files are refused naming the file" <| fun () ->
            let good = npyBytes "<f4" "(4,)" (Array.zeroCreate 16)
            let path = temp "bad.npy"
            for cut in [ 3; 9; 40; good.Length - 1 ] do
                File.WriteAllBytes(path, good.[.. cut - 1])
                let e = Expect.throwsC (fun () -> Npy.Load path |> ignore) id
                Expect.isTrue (e :? CorruptFileException) (sprintf "cut at %d: %s" cut (e.GetType().Name))
                Expect.stringContains e.Message path "names the file"
            File.WriteAllBytes(path, npyBytes ">f4" "(1,)" (Array.zeroCreate 4))
            Expect.throwsT<CorruptFileException> (fun () -> Npy.Load path |> ignore) "big-endian refused"
            File.WriteAllBytes(path, npyBytes "<c8" "(1,)" (Array.zeroCreate 8))
            Expect.throwsT<CorruptFileException> (fun () -> Npy.Load path |> ignore) "complex refused"
            File.Delete path
        testCase "IDX images and labels, raw and gzip (the Fashion-MNIST layout)" <| fun () ->
            let images = Array.concat [ [| 0uy; 0uy; 8uy; 3uy |]; bigEndian 2; bigEndian 2; bigEndian 3; Array.init 12 (fun i -> byte (i * 20)) ]
            let labels = Array.concat [ [| 0uy; 0uy; 8uy; 1uy |]; bigEndian 2; [| 9uy; 0uy |] ]
            let raw, gz = temp "images-idx3-ubyte", temp "labels-idx1-ubyte.gz"
            File.WriteAllBytes(raw, images)
            do
                use f = File.Create gz
                use z = new GZipStream(f, CompressionLevel.Optimal)
                z.Write(labels, 0, labels.Length)
            let x = Idx.Load raw
            Expect.sequenceEqual x.Shape [| 2; 2; 3 |] "image shape"
            Expect.sequenceEqual (x.ToArray<int>()) (Array.init 12 (fun i -> i * 20)) "pixels"
            Expect.sequenceEqual ((Idx.Load gz).ToArray<int>()) [| 9; 0 |] "labels from gzip"
            File.WriteAllBytes(raw, images.[.. 20])
            Expect.throwsT<CorruptFileException> (fun () -> Idx.Load raw |> ignore) "truncated"
            File.WriteAllBytes(raw, Array.concat [ [| 0uy; 0uy; 0x42uy; 1uy |]; bigEndian 1; [| 0uy |] ])
            Expect.throwsT<CorruptFileException> (fun () -> Idx.Load raw |> ignore) "unknown element type"
            File.Delete raw; File.Delete gz
        testCase "CSV with and without a header; ragged rows and text named by line" <| fun () ->
            let path = temp "t.csv"
            File.WriteAllText(path, "x,y\n1,2.5\n\n-3,1e3\n")
            let t = Csv.Load path
            Expect.sequenceEqual t.Columns [| "x"; "y" |] "header"
            Expect.sequenceEqual t.Values.Shape [| 2; 2 |] "shape"
            Expect.sequenceEqual (t.Values.ToArray<float>()) [| 1.0; 2.5; -3.0; 1000.0 |] "values"
            File.WriteAllText(path, "1,2\n3,4\n")
            Expect.sequenceEqual (Csv.Load path).Columns [| "c0"; "c1" |] "no header"
            File.WriteAllText(path, "1,2\n3\n")
            let e = Expect.throwsC (fun () -> Csv.Load path |> ignore) id
            Expect.stringContains e.Message "line 2" "ragged row named"
            File.WriteAllText(path, "1,2\n3,abc\n")
            let e = Expect.throwsC (fun () -> Csv.Load path |> ignore) id
            Expect.stringContains e.Message "'abc' is not a number" "text named"
            File.Delete path
    ]
