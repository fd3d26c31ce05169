// 13. A variational autoencoder on Fashion-MNIST: an encoder gives q(z|x) = N(μ, σ²), a sample from it by the
// reparameterization trick (Distributions.rsample, so gradients reach μ and σ), a decoder gives Bernoulli logits
// for the pixels, and the loss is the negative ELBO: reconstruction + KL(q(z|x) ‖ N(0, I)) in closed form
// (Distributions.klDivergence). Writes a chart of test images and their reconstructions.
// Data: the four IDX files of Fashion-MNIST in data/fashion-mnist (`dotnet fsi build.fsx -- -t Data` fetches them).
#load "_load.fsx"
open System
open System.IO
open FunctionalAD
open FunctionalAD.Data
open Plotly.NET
open _load.Example

section "13. VAE on Fashion-MNIST"
let dataDir = Path.Combine(__SOURCE_DIRECTORY__, "..", "data", "fashion-mnist")
let (trainImages, _), (testImages, _) =
    try Datasets.fashionMnist dataDir
    with :? FileNotFoundException as e ->
        eprintfn "%s" e.Message
        exit 1

/// The first `count` images as Float32 rows of 784 pixels in [0, 1].
let images (all: Tensor) (count: int) = all.Narrow(0, 0, min count all.Shape.[0]).Reshape(-1, 784)

let train = images trainImages 12000 // a subset keeps the run to a few minutes on a laptop CPU
let test = images testImages 1000
printfn "train %A, test %A" train.Shape test.Shape

let latent = 16
let vae =
    model {
        let! hidden = scope "enc" (nn.linear 784 256)
        let! mu = scope "mu" (nn.linear 256 latent)
        let! logVar = scope "logVar" (nn.linear 256 latent)
        let! decoder = scope "dec" (nn.mlp [ latent; 256; 784 ] nn.relu)
        let encode (x: Tensor) = let h = relu (hidden x) in mu h, logVar h
        return encode, decoder
    }
let p0, apply = Model.init 1UL vae
let prior = Distributions.normal (Tensor.zeros [ latent ]) (Tensor.ones [ latent ])

/// q(z|x) for a batch: N(μ, exp(logVar)) with batch shape [n, latent].
let posterior (p: Params) (x: Tensor) =
    let encode, _ = apply p
    let mu, logVar = encode x
    Distributions.normal mu ((0.5 * logVar).Exp())

/// The negative ELBO per image: Bernoulli reconstruction loss of a reparameterized sample + the closed-form KL.
let negativeElbo (p: Params) (x: Tensor) (g: Generator) =
    let _, decode = apply p
    let q = posterior p x
    let z = q |> Distributions.rsample g []
    let n = float x.Shape.[0]
    let reconstruction = Loss.binaryCrossEntropyWithLogitsWith Sum (decode z) x / n
    let kl = (Distributions.klDivergence q prior).Sum() / n
    reconstruction + kl

let evaluate p = noGrad (fun () -> (negativeElbo p test (Generator 99UL)).item ())

let epochs, batch = 4, 128
let opt = Optim.adam 1e-3
let order = Generator 5UL
let sw = Diagnostics.Stopwatch.StartNew()
let before = evaluate p0
let mutable p, s = p0, Optim.init opt p0
let mutable step = 0
for epoch in 1 .. epochs do
    let perm = Tensor.Randperm(train.Shape.[0], order)
    let mutable total, batches = 0.0, 0
    for start in 0 .. batch .. train.Shape.[0] - batch do
        let xb = train.IndexSelect(0, perm.Narrow(0, start, batch))
        let noise = Generator(uint64 step)
        let loss, grads = Tree.gradv (fun p -> negativeElbo p xb noise) p
        let p', s' = Optim.step opt s p grads
        p <- p'; s <- s'
        step <- step + 1
        total <- total + loss.item ()
        batches <- batches + 1
    printfn "epoch %d: train -ELBO %.1f nats/image, test %.1f (%.0f s)" epoch (total / float batches) (evaluate p) sw.Elapsed.TotalSeconds
let after = evaluate p
printfn "test -ELBO: %.1f before training, %.1f after" before after
check "training lowers the negative ELBO by more than 40%" (after < 0.6 * before)

// Reconstructions of the first 8 test images (the decoder's mean at the posterior mean): originals above, below.
let shown = test.Narrow(0, 0, 8)
let reconstructed =
    noGrad (fun () ->
        let _, decode = apply p
        (decode (posterior p shown).Mean).Sigmoid())
let mosaic =
    let a, b = shown.ToDoubleArray(), reconstructed.ToDoubleArray()
    // rows top to bottom: 28 rows of originals, then 28 of reconstructions; heatmaps draw row 0 at the bottom
    [ for r in 55 .. -1 .. 0 ->
        let src, row = (if r < 28 then a, r else b, r - 28)
        [ for c in 0 .. 8 * 28 - 1 -> src.[(c / 28) * 784 + row * 28 + c % 28] ] ]
let error = noGrad (fun () -> (reconstructed - shown).Abs().Mean().item ())
printfn "mean absolute pixel error of the reconstructions: %.3f" error
check "reconstructions are close to the images" (error < 0.15)
Chart.Heatmap(zData = mosaic, ColorScale = StyleParam.Colorscale.Greys, ReverseScale = true)
|> Chart.withTitle "Fashion-MNIST test images (top) and VAE reconstructions (bottom)"
|> Plot.save (output "13-vae-reconstructions.html")
|> printfn "chart: %s"
