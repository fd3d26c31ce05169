// 10. A tiny character-level transformer (2 pre-norm blocks, causal attention) trained on this project's README:
// next-character prediction with Adam, the loss falling as it learns, then a few generated lines.
#load "_load.fsx"
open System
open System.IO
open FunctionalAD
open _load.Example

section "10. Tiny transformer on the README"
let text = File.ReadAllText(Path.Combine(__SOURCE_DIRECTORY__, "..", "README.md"))
let chars = text |> Seq.distinct |> Seq.sort |> Array.ofSeq
let index = chars |> Array.mapi (fun i c -> c, int64 i) |> dict
let encoded = text |> Seq.map (fun c -> index.[c]) |> Array.ofSeq
let vocab, context, embed, heads = chars.Length, 32, 48, 4
printfn "%d characters, vocabulary of %d; context %d, embedding %d, %d heads" text.Length vocab context embed heads

// tokens [N, L] -> logits [N, L, vocab]
let net =
    model {
        let! tokens = scope "tok" (nn.embedding vocab embed)
        let! positions = param "pos" (Init.normal 0.02 [ context; embed ])
        let! block1 = scope "block1" (nn.transformerBlock embed heads (4 * embed) true)
        let! block2 = scope "block2" (nn.transformerBlock embed heads (4 * embed) true)
        let! norm = scope "norm" (nn.layerNorm embed)
        let! head = scope "head" (nn.linear embed vocab)
        return fun (x: Tensor) ->
            let h = tokens x + positions.Narrow(0, 0, x.Shape.[1])
            h |> block1 |> block2 |> norm |> head
    }
let p0, apply = Model.init 1UL net

// a batch of random windows: inputs [B, L] and the next characters [B, L]
let g = Generator 2UL
let batch size =
    let starts = Array.init size (fun _ -> int (g.NextInt64(0L, int64 (encoded.Length - context - 1))))
    let window offset = Tensor.FromArray(Array.concat [| for s in starts -> encoded.[s + offset .. s + offset + context - 1] |], [| size; context |])
    window 0, window 1
let loss p (x: Tensor) (y: Tensor) = Loss.crossEntropy ((apply p x).Reshape(-1, vocab)) (y.Reshape(-1))

let optimizer = Optim.adam 5e-3
let steps = 300
let sw = Diagnostics.Stopwatch.StartNew()
let mutable p, state = p0, Optim.init optimizer p0
let losses = ResizeArray<float>()
for step in 1 .. steps do
    let x, y = batch 32
    let value, grads = Tree.gradv (fun q -> loss q x y) p
    let p', s' = Optim.step optimizer state p grads
    p <- p'
    state <- s'
    losses.Add(value.item ())
    if step = 1 || step % 50 = 0 then
        printfn "step %3d  loss %.3f  (%.1f s)" step (Seq.average (Seq.skip (max 0 (losses.Count - 50)) losses)) sw.Elapsed.TotalSeconds

// sampling: the last `context` characters in, the next one drawn from softmax(logits / temperature)
let generate (prompt: string) (length: int) (temperature: float) =
    let out = Text.StringBuilder(prompt)
    let tokens = ResizeArray(prompt |> Seq.map (fun c -> index.[c]))
    for _ in 1 .. length do
        let window = tokens.GetRange(max 0 (tokens.Count - context), min context tokens.Count).ToArray()
        let logits = noGrad (fun () -> apply p (Tensor.FromArray(window, [| 1; window.Length |])))
        let last = logits.[0].[window.Length - 1]
        let next = Tensor.Multinomial((last / temperature).Softmax(-1), 1, false, g).ToArray<int64>().[0]
        tokens.Add next
        out.Append(chars.[int next]) |> ignore
    out.ToString()

section "samples"
for prompt in [ "The "; "let "; "grad " ] do
    printfn "%s\n---" (generate prompt 120 0.8)
let first, last = Seq.average (Seq.take 20 losses), Seq.average (Seq.skip (steps - 20) losses)
printfn "loss %.3f -> %.3f in %.1f s (uniform guessing: %.3f)" first last sw.Elapsed.TotalSeconds (log (float vocab))
check "the loss falls well below guessing" (last < 0.7 * log (float vocab))
