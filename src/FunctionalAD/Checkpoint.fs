namespace FunctionalAD

open System
open System.Collections.Generic
open System.Globalization
open FunctionalAD.Data
open FunctionalAD.Persistence

/// Everything needed to continue a training run exactly where it stopped.
type Checkpoint<'P> =
    { /// The parameters (any tree of tensors; Params keep their paths as names).
      Params: 'P
      /// The optimizer's state (step count and moment/momentum slots).
      Optimizer: OptimizerState
      /// Model state that is not trained by gradients (batch-norm statistics), as tensors; empty when none.
      ModelState: Tensor[]
      /// The data loader's position: the epoch and the next batch in it.
      Position: LoaderPosition
      /// The state of the run's random generator (dropout, augmentation), if it has one.
      Generator: GeneratorState option
      /// Free-form string metadata (training history, early-stopping state...).
      Metadata: Map<string, string> }

/// Saving and loading checkpoints: one safetensors file (tensors named "params/<path>", "optimizer/<slot>/<path>",
/// "state/<i>"; the rest in its metadata), written atomically and checksummed. Compiled as `CheckpointModule`, so
/// the C# facade's `Checkpoint` class does not clash with it.
[<CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Checkpoint =
    let private format = "functionalad-checkpoint-1"
    let private reserved = [ "checkpoint.format"; "optimizer.step"; "optimizer.slots"; "position.epoch"; "position.batch"; "generator" ]
    let private inv (x: int64) = x.ToString(CultureInfo.InvariantCulture)

    /// Names for a tree's leaves: Params paths, or the leaf index (6 digits) for other trees.
    let private leafNames (tree: 'P) =
        match box tree with
        | :? Params as p -> Params.names p |> Array.ofList
        | _ -> Tree.leaves tree |> Array.mapi (fun i _ -> sprintf "%06d" i)

    let private generatorText (g: GeneratorState) =
        let spare = match Option.ofNullable g.SpareNormal with Some v -> BitConverter.DoubleToInt64Bits(v).ToString("x16") | None -> "-"
        String.Join(",", [| g.S0.ToString("x16"); g.S1.ToString("x16"); g.S2.ToString("x16"); g.S3.ToString("x16"); spare |])

    let private parseGenerator (path: string) (text: string) =
        let parts = text.Split ','
        let hex (s: string) =
            match UInt64.TryParse(s, NumberStyles.HexNumber, CultureInfo.InvariantCulture) with
            | true, v -> v
            | _ -> raise (CorruptFileException(path, sprintf "the generator state '%s' is malformed" text))
        if parts.Length <> 5 then raise (CorruptFileException(path, sprintf "the generator state '%s' is malformed" text))
        let spare = if parts.[4] = "-" then Nullable() else Nullable(BitConverter.Int64BitsToDouble(int64 (hex parts.[4])))
        GeneratorState(hex parts.[0], hex parts.[1], hex parts.[2], hex parts.[3], spare)

    /// Writes a checkpoint to `path`: to a temporary file in the same folder, flushed, then renamed over the old
    /// one, so a crash at any moment leaves the previous checkpoint intact. Throws ArgumentException when the
    /// optimizer state does not fit the parameters or metadata uses a reserved key, IOException on failure.
    let save (path: string) (c: Checkpoint<'P>) =
        let leaves = Tree.leaves c.Params
        let names = leafNames c.Params
        if c.Optimizer.Slots |> Array.exists (fun s -> s.Length <> leaves.Length) then
            invalidArg "c" (sprintf "Checkpoint.save: the optimizer state holds slots for another number of tensors than the %d parameters" leaves.Length)
        match c.Metadata |> Map.tryFindKey (fun k _ -> List.contains k reserved) with
        | Some k -> invalidArg "c" (sprintf "Checkpoint.save: the metadata key '%s' is reserved" k)
        | None -> ()
        let tensors =
            [ for n, t in Array.zip names leaves -> KeyValuePair("params/" + n, t.StopGradient())
              for k, slot in Array.indexed c.Optimizer.Slots do
                  for n, t in Array.zip names slot -> KeyValuePair(sprintf "optimizer/%d/%s" k n, t.StopGradient())
              for i, t in Array.indexed c.ModelState -> KeyValuePair(sprintf "state/%06d" i, t.StopGradient()) ]
        let meta = Dictionary<string, string>(c.Metadata)
        meta.["checkpoint.format"] <- format
        meta.["optimizer.step"] <- inv (int64 c.Optimizer.Step)
        meta.["optimizer.slots"] <- inv (int64 c.Optimizer.Slots.Length)
        meta.["position.epoch"] <- inv (int64 c.Position.Epoch)
        meta.["position.batch"] <- inv (int64 c.Position.Batch)
        match c.Generator with Some g -> meta.["generator"] <- generatorText g | None -> ()
        SafeTensors.Save(path, tensors, meta)

    /// Reads a checkpoint written by `save`, for parameters shaped like `like`. The file must carry a matching
    /// checksum; every parameter and optimizer slot is checked by name, shape and dtype against `like`.
    /// Throws CorruptFileException (damaged, truncated or foreign file), LoadMismatchException (the parameters
    /// differ from `like`'s, all differences listed), FileNotFoundException.
    let load (like: 'P) (path: string) : Checkpoint<'P> =
        let file = SafeTensors.Load(path, ChecksumPolicy.Required)
        let meta = file.Metadata
        let get key =
            match meta.TryGetValue key with
            | true, v -> v
            | _ -> raise (CorruptFileException(path, sprintf "not a FunctionalAD checkpoint: the metadata lacks '%s'" key))
        if get "checkpoint.format" <> format then
            raise (CorruptFileException(path, sprintf "checkpoint format '%s' is not '%s'" (get "checkpoint.format") format))
        let int key =
            match Int32.TryParse(get key, NumberStyles.Integer, CultureInfo.InvariantCulture) with
            | true, v when v >= 0 -> v
            | _ -> raise (CorruptFileException(path, sprintf "the metadata entry '%s' = '%s' is not a count" key (get key)))
        let templ = Tree.leaves like
        let names = leafNames like
        let missing, mismatched = ResizeArray(), ResizeArray()
        let read (name: string) (expected: Tensor) =
            match file.ByName.TryGetValue name with
            | false, _ -> missing.Add name; expected
            | true, t when t.DType <> expected.DType || t.Shape <> expected.Shape ->
                mismatched.Add((name, sprintf "the file has %A %s, the model %A %s" t.DType (Shape.Format t.Shape) expected.DType (Shape.Format expected.Shape)))
                expected
            | true, t -> t.ToDevice expected.Device
        let ps = Array.map2 (fun n t -> read ("params/" + n) t) names templ
        let slots = Array.init (int "optimizer.slots") (fun k -> Array.map2 (fun n t -> read (sprintf "optimizer/%d/%s" k n) t) names templ)
        let expectedNames = HashSet<string>([ for n in names -> "params/" + n ] @ [ for k in 0 .. slots.Length - 1 do for n in names -> sprintf "optimizer/%d/%s" k n ])
        let unexpected = [ for kv in file.Tensors do if not (kv.Key.StartsWith "state/") && not (expectedNames.Contains kv.Key) then kv.Key ]
        if missing.Count > 0 || mismatched.Count > 0 || not unexpected.IsEmpty then
            raise (LoadMismatchException(path, { Loaded = []; Missing = List.ofSeq missing; Unexpected = unexpected; Mismatched = List.ofSeq mismatched }))
        let state = file.Tensors |> Seq.filter (fun kv -> kv.Key.StartsWith "state/") |> Seq.sortBy (fun kv -> kv.Key) |> Seq.map (fun kv -> kv.Value) |> Array.ofSeq
        { Params = Tree.unflatten like ps
          Optimizer = { Step = int "optimizer.step"; Slots = slots }
          ModelState = state
          Position = LoaderPosition(int "position.epoch", int "position.batch")
          Generator = (match meta.TryGetValue "generator" with | true, g -> Some(parseGenerator path g) | _ -> None)
          Metadata = meta |> Seq.filter (fun kv -> not (List.contains kv.Key reserved)) |> Seq.map (fun kv -> kv.Key, kv.Value) |> Map.ofSeq }

    /// `load like path` when the file exists, None when it does not (a fresh run). Damaged files still throw.
    let tryLoad (like: 'P) (path: string) : Checkpoint<'P> option =
        if IO.File.Exists path then Some(load like path) else None
