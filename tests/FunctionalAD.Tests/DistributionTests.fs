/// Distributions (issue 17): log-densities and entropies against values computed by hand from the closed forms,
/// sample moments, closed-form KL against a Monte-Carlo estimate, derivatives of logProb/rsample/KL at orders 1 and 2
/// against finite differences, batch shapes, and the errors.
module FunctionalAD.Tests.DistributionTests

open System
open Expecto
open FunctionalAD
open FunctionalAD.Testing
open FunctionalAD.Tests.Support

let private s (x: float) = scalar x
let private close1 tol (t: Tensor) (e: float) msg = Expect.floatClose { absolute = tol; relative = tol } (t.item()) e msg

let private knownValues =
    testList "known values" [
        testCase "logProb and entropy equal the closed forms" <| fun () ->
            let n = Distributions.normal (s 1.0) (s 2.0)
            close1 1e-13 (n.LogProb(s 0.5)) -1.6433357137646178 "normal logpdf(0.5; 1, 2)"
            close1 1e-13 (n.Entropy()) 2.1120857137646180 "normal entropy"
            let u = Distributions.uniform (s 0.0) (s 4.0)
            Expect.sequenceEqual ((u.LogProb(tensor [ 1.0; 0.0; 4.0; -1.0 ])).ToDoubleArray()) [| -log 4.0; -log 4.0; -infinity; -infinity |] "uniform: [low, high)"
            close1 1e-13 (u.Entropy()) (log 4.0) "uniform entropy"
            let b = Distributions.bernoulli (s 0.3)
            Expect.sequenceEqual ((b.LogProb(tensor [ 1.0; 0.0 ])).ToDoubleArray() |> Array.map (fun v -> Math.Round(v, 12))) [| Math.Round(log 0.3, 12); Math.Round(log 0.7, 12) |] "bernoulli"
            close1 1e-13 (b.Entropy()) 0.6108643020548935 "bernoulli entropy"
            let c = Distributions.categorical (tensor [ 1.0; 2.0; 7.0 ])
            close1 1e-13 (c.LogProb(scalar 2L)) (log 0.7) "categorical (weights normalised)"
            close1 1e-13 (c.Entropy()) 0.8018185525433373 "categorical entropy"
            let g = Distributions.gamma (s 2.0) (s 3.0)
            close1 1e-12 (g.LogProb(s 0.5)) (2.0 * log 3.0 + log 0.5 - 1.5) "gamma logpdf(0.5; 2, rate 3)"
            close1 1e-12 (g.Entropy()) (2.0 - log 3.0 - (1.0 - 0.5772156649015329)) "gamma entropy"
            let be = Distributions.beta (s 2.0) (s 3.0)
            close1 1e-12 (be.LogProb(s 0.4)) (log 1.728) "beta logpdf(0.4; 2, 3) = log(12·0.4·0.6²)"
            // B(2,3) = 1/12, ψ(2) = 1 - γ, ψ(3) = 1.5 - γ, ψ(5) = 25/12 - γ
            let eg = 0.5772156649015329
            close1 1e-12 (be.Entropy()) (-(log 12.0) - (1.0 - eg) - 2.0 * (1.5 - eg) + 3.0 * (25.0 / 12.0 - eg)) "beta entropy"
            let d = Distributions.dirichlet (tensor [ 1.0; 2.0; 3.0 ])
            close1 1e-12 (d.LogProb(tensor [ 0.2; 0.3; 0.5 ])) (log 4.5) "dirichlet logpdf = log(60·0.3·0.5²)"
            let m = Distributions.multivariateNormal (tensor [ 1.0; -1.0 ]) (tensor [ [ 2.0; 0.5 ]; [ 0.5; 1.0 ] ])
            // quadratic form 4/1.75, log det 1.75
            close1 1e-12 (m.LogProb(tensor [ 0.0; 0.0 ])) (-0.5 * (2.0 * log (2.0 * Math.PI) + 4.0 / 1.75 + log 1.75)) "mvn logpdf"
            close1 1e-12 (m.Entropy()) (1.0 + log (2.0 * Math.PI) + 0.5 * log 1.75) "mvn entropy"
            expectClose 1e-14 m.Variance (tensor [ 2.0; 1.0 ]) "mvn variance is the covariance's diagonal"
        testCase "batch shapes broadcast like torch.distributions" <| fun () ->
            let n = Distributions.normal (tensor [ 0.0; 1.0; 2.0 ]) (tensor [ [ 1.0 ]; [ 2.0 ] ])
            Expect.sequenceEqual n.BatchShape [| 2; 3 |] "batch"
            Expect.sequenceEqual (n |> Distributions.sample (Generator 1UL) [ 5 ]).Shape [| 5; 2; 3 |] "sample shape @ batch"
            Expect.sequenceEqual (n.LogProb(tensor [ 0.0; 0.0; 0.0 ])).Shape [| 2; 3 |] "logProb broadcasts the value"
            let m = Distributions.multivariateNormal (Tensor.Zeros([| 4; 3 |], DType.Float64)) (Tensor.Eye(3, Nullable(), DType.Float64))
            Expect.sequenceEqual m.BatchShape [| 4 |] "mvn batch"
            Expect.sequenceEqual m.EventShape [| 3 |] "mvn event"
            Expect.sequenceEqual (m |> Distributions.rsample (Generator 1UL) [ 2 ]).Shape [| 2; 4; 3 |] "mvn sample"
            Expect.sequenceEqual (m.LogProb(Tensor.Zeros([| 2; 4; 3 |], DType.Float64))).Shape [| 2; 4 |] "mvn logProb"
            let c = Distributions.categoricalLogits (Tensor.Zeros([| 2; 5 |], DType.Float64))
            let cs = c |> Distributions.sample (Generator 1UL) [ 7 ]
            Expect.sequenceEqual cs.Shape [| 7; 2 |] "categorical sample"
            Expect.equal cs.DType DType.Int64 "class indices"
            Expect.sequenceEqual (Distributions.dirichlet (Tensor.Ones([| 3; 4 |], DType.Float64)) |> Distributions.sample (Generator 1UL) [ 2 ]).Shape [| 2; 3; 4 |] "dirichlet sample"
            let a = Distributions.sample (Generator 9UL) [ 4 ] (Distributions.gamma (s 0.5) (s 1.0))
            let b = Distributions.sample (Generator 9UL) [ 4 ] (Distributions.gamma (s 0.5) (s 1.0))
            Expect.sequenceEqual (a.ToDoubleArray()) (b.ToDoubleArray()) "a seed fixes the draws"
    ]

let private count = 20000

/// mean and variance of the draws, compared with the distribution's within 5 standard errors.
let private moments name (d: Distribution) =
    let x = d.Sample(Generator 42UL, count).To(DType.Float64)
    let m = x.Mean([| 0 |])
    let v = x.Var([| 0 |])
    let em, ev = d.Mean.ToDoubleArray(), d.Variance.ToDoubleArray()
    let am, av = m.ToDoubleArray(), v.ToDoubleArray()
    for i in 0 .. em.Length - 1 do
        let se = sqrt (ev.[i] / float count)
        if abs (am.[i] - em.[i]) > 5.0 * se then failtestf "%s mean[%d] = %g, expected %g (se %g)" name i am.[i] em.[i] se
        if abs (av.[i] - ev.[i]) > 0.05 * ev.[i] + 1e-12 then failtestf "%s var[%d] = %g, expected %g" name i av.[i] ev.[i]

let private sampling =
    testList "samples" [
        testCase "sample moments equal mean and variance" <| fun () ->
            moments "normal" (Distributions.normal (tensor [ 1.0; -2.0 ]) (tensor [ 0.5; 3.0 ]))
            moments "uniform" (Distributions.uniform (s -1.0) (s 3.0))
            moments "bernoulli" (Distributions.bernoulli (tensor [ 0.2; 0.9 ]))
            moments "gamma" (Distributions.gamma (tensor [ 0.4; 2.0; 9.0 ]) (tensor [ 1.0; 3.0; 0.5 ]))
            moments "beta" (Distributions.beta (tensor [ 0.5; 2.0 ]) (tensor [ 0.5; 3.0 ]))
            moments "dirichlet" (Distributions.dirichlet (tensor [ 0.7; 2.0; 3.0 ]))
            moments "mvn" (Distributions.multivariateNormal (tensor [ 1.0; -1.0 ]) (tensor [ [ 2.0; 0.5 ]; [ 0.5; 1.0 ] ]))
        testCase "categorical frequencies and the mvn covariance" <| fun () ->
            let c = Distributions.categorical (tensor [ 0.1; 0.6; 0.3 ]) |> Distributions.sample (Generator 3UL) [ count ]
            let freq = (c.OneHot(3, DType.Float64)).Mean([| 0 |]).ToDoubleArray()
            for i, p in List.indexed [ 0.1; 0.6; 0.3 ] do
                Expect.isLessThan (abs (freq.[i] - p)) (5.0 * sqrt (p * (1.0 - p) / float count)) (sprintf "class %d" i)
            let x = Distributions.multivariateNormal (tensor [ 0.0; 0.0 ]) (tensor [ [ 2.0; 0.5 ]; [ 0.5; 1.0 ] ]) |> Distributions.sample (Generator 4UL) [ count ]
            let cov = (x.Transpose(0, 1).MatMul(x) / float count).ToDoubleArray()
            Expect.isLessThan (abs (cov.[1] - 0.5)) 0.05 "off-diagonal covariance"
    ]

/// E_p[log p - log q] from draws of p, within 5 standard errors of the closed form.
let private klMatchesMonteCarlo name (p: Distribution) (q: Distribution) =
    let x = p.Sample(Generator 7UL, count)
    let r = (p.LogProb x - q.LogProb x).To(DType.Float64)
    let mc, se = r.Mean().item(), sqrt (r.Var().item() / float count)
    let kl = (Distribution.KlDivergence(p, q)).item()
    if abs (kl - mc) > 5.0 * se + 1e-9 then failtestf "%s: KL %g, Monte Carlo %g ± %g" name kl mc se

let private kl =
    testList "klDivergence" [
        testCase "closed forms equal Monte-Carlo estimates" <| fun () ->
            klMatchesMonteCarlo "normal" (Distributions.normal (s 0.3) (s 1.5)) (Distributions.normal (s -0.2) (s 0.8))
            klMatchesMonteCarlo "uniform" (Distributions.uniform (s 0.5) (s 1.0)) (Distributions.uniform (s 0.0) (s 2.0))
            klMatchesMonteCarlo "bernoulli" (Distributions.bernoulli (s 0.3)) (Distributions.bernoulli (s 0.8))
            klMatchesMonteCarlo "categorical" (Distributions.categorical (tensor [ 0.2; 0.5; 0.3 ])) (Distributions.categorical (tensor [ 0.6; 0.1; 0.3 ]))
            klMatchesMonteCarlo "gamma" (Distributions.gamma (s 2.0) (s 3.0)) (Distributions.gamma (s 1.5) (s 1.0))
            klMatchesMonteCarlo "beta" (Distributions.beta (s 2.0) (s 3.0)) (Distributions.beta (s 1.2) (s 0.8))
            klMatchesMonteCarlo "dirichlet" (Distributions.dirichlet (tensor [ 1.0; 2.0; 3.0 ])) (Distributions.dirichlet (tensor [ 2.0; 2.0; 0.7 ]))
            klMatchesMonteCarlo "mvn"
                (Distributions.multivariateNormal (tensor [ 1.0; -1.0 ]) (tensor [ [ 2.0; 0.5 ]; [ 0.5; 1.0 ] ]))
                (Distributions.multivariateNormal (tensor [ 0.0; 0.5 ]) (tensor [ [ 1.0; -0.3 ]; [ -0.3; 0.7 ] ]))
        testCase "KL of a distribution with itself is 0; uniform outside the support is infinite" <| fun () ->
            let n = Distributions.normal (tensor [ 0.3; 1.0 ]) (tensor [ 1.5; 0.2 ])
            expectClose 1e-15 (Distributions.klDivergence n n) (tensor [ 0.0; 0.0 ]) "normal"
            Expect.equal ((Distributions.klDivergence (Distributions.uniform (s 0.0) (s 2.0)) (Distributions.uniform (s 0.5) (s 3.0))).item()) infinity "uniform"
            Expect.throwsT<NotSupportedException> (fun () -> Distributions.klDivergence n (Distributions.gamma (s 1.0) (s 1.0)) |> ignore) "a mixed pair"
        testCase "categorical with a class of probability 0: finite entropy and gradients, KL 0·log 0 = 0 and +∞" <| fun () ->
            let c = Distributions.categorical (tensor [ 0.0; 0.25; 0.75 ])
            close1 1e-13 (c.Entropy()) (-(0.25 * log 0.25 + 0.75 * log 0.75)) "entropy"
            let g = grad (fun (w: Tensor) -> (Distributions.categorical w).Entropy()) (tensor [ 0.0; 1.0; 3.0 ])
            Expect.isTrue (g.ToDoubleArray() |> Array.skip 1 |> Array.forall Double.IsFinite) (sprintf "gradient %A" g)
            let full = Distributions.categorical (tensor [ 0.2; 0.3; 0.5 ])
            Expect.isTrue (Double.IsFinite((Distributions.klDivergence c full).item())) "p₁ = 0 contributes 0"
            Expect.equal ((Distributions.klDivergence full c).item()) infinity "p₁ > 0 = p₂ is infinite"
    ]

let private derivatives =
    testList "derivatives" [
        testCase "logProb, entropy, rsample and KL: orders 1 and 2 equal finite differences" <| fun () ->
            let checks : (string * (Tensor[] -> Tensor) * Tensor[]) list =
                [ "normal logProb", (fun xs -> (Distributions.normal xs.[0] xs.[1]).LogProb(tensor [ 0.5; -1.0 ]).Sum()), [| tensor [ 0.2; 1.0 ]; tensor [ 1.3; 0.6 ] |]
                  "normal rsample", (fun xs -> (Distributions.normal xs.[0] xs.[1] |> Distributions.rsample (Generator 5UL) [ 3 ]).Square().Sum()), [| tensor [ 0.2; 1.0 ]; tensor [ 1.3; 0.6 ] |]
                  "uniform rsample", (fun xs -> (Distributions.uniform xs.[0] xs.[1] |> Distributions.rsample (Generator 5UL) [ 3 ]).Exp().Sum()), [| tensor [ 0.2 ]; tensor [ 1.3 ] |]
                  "mvn rsample and logProb", (fun xs ->
                        let m = Distributions.multivariateNormal xs.[0] xs.[1]
                        let x = m |> Distributions.rsample (Generator 5UL) [ 2 ]
                        x.Square().Sum() + m.LogProb(tensor [ 0.1; 0.4 ]).Sum()), [| tensor [ 0.2; -0.3 ]; tensor [ [ 1.5; 0.4 ]; [ 0.4; 0.9 ] ] |]
                  "gamma logProb and entropy", (fun xs -> let g = Distributions.gamma xs.[0] xs.[1] in g.LogProb(tensor [ 0.7; 2.0 ]).Sum() + g.Entropy().Sum()), [| tensor [ 1.5; 3.0 ]; tensor [ 0.8; 2.0 ] |]
                  "beta logProb and entropy", (fun xs -> let b = Distributions.beta xs.[0] xs.[1] in b.LogProb(s 0.3) + b.Entropy()), [| s 1.7; s 2.5 |]
                  "dirichlet logProb and entropy", (fun xs -> let d = Distributions.dirichlet xs.[0] in d.LogProb(tensor [ 0.2; 0.3; 0.5 ]) + d.Entropy()), [| tensor [ 1.2; 2.0; 3.1 ] |]
                  "bernoulli and categorical", (fun xs -> (Distributions.bernoulliLogits xs.[0]).LogProb(tensor [ 1.0; 0.0 ]).Sum() + (Distributions.categoricalLogits xs.[0]).Entropy()), [| tensor [ 0.3; -0.8 ] |]
                  "normal KL", (fun xs -> Distributions.klDivergence (Distributions.normal xs.[0] xs.[1]) (Distributions.normal (s 0.1) (s 0.7))), [| s 0.4; s 1.2 |]
                  "mvn KL", (fun xs -> Distributions.klDivergence (Distributions.multivariateNormal xs.[0] xs.[1]) (Distributions.multivariateNormal (tensor [ 0.0; 0.5 ]) (tensor [ [ 1.0; -0.3 ]; [ -0.3; 0.7 ] ]))), [| tensor [ 0.2; -0.3 ]; tensor [ [ 1.5; 0.4 ]; [ 0.4; 0.9 ] ] |]
                  "gamma, beta, dirichlet KL", (fun xs ->
                        Distributions.klDivergence (Distributions.gamma xs.[0] (s 2.0)) (Distributions.gamma (s 1.0) xs.[0])
                        + Distributions.klDivergence (Distributions.beta xs.[0] (s 2.0)) (Distributions.beta (s 1.0) xs.[0])
                        + Distributions.klDivergence (Distributions.dirichlet (xs.[0] * tensor [ 1.0; 2.0 ])) (Distributions.dirichlet (tensor [ 1.5; 0.5 ]))), [| s 1.3 |] ]
            for name, f, xs in checks do
                try Check.gradientsN f xs with e -> failtestf "%s: %s" name e.Message
    ]

let private errors =
    testList "errors" [
        testCase "bad parameters and unsupported operations name the distribution" <| fun () ->
            let m = Expect.throwsC (fun () -> Distributions.normal (s 0.0) (s -1.0) |> ignore) (fun e -> e.Message)
            Expect.stringContains m "normal: scale must be positive" "negative scale"
            Expect.throwsT<TensorException> (fun () -> Distributions.uniform (s 1.0) (s 1.0) |> ignore) "empty uniform"
            Expect.throwsT<TensorException> (fun () -> Distributions.bernoulli (s 1.5) |> ignore) "probability above 1"
            Expect.throwsT<NotPositiveDefiniteException> (fun () -> Distributions.multivariateNormal (tensor [ 0.0; 0.0 ]) (tensor [ [ 1.0; 2.0 ]; [ 2.0; 1.0 ] ]) |> ignore) "indefinite covariance"
            Expect.throwsT<ShapeMismatchException> (fun () -> Distributions.multivariateNormal (tensor [ 0.0; 0.0 ]) (Tensor.Eye(3, Nullable(), DType.Float64)) |> ignore) "covariance of the wrong size"
            let r = Expect.throwsC (fun () -> Distributions.gamma (s 1.0) (s 1.0) |> Distributions.rsample (Generator 1UL) [ 1 ] |> ignore) (fun e -> (e :? NotSupportedException, e.Message))
            Expect.isTrue (fst r) "gamma rsample is NotSupported"
            Expect.stringContains (snd r) "gamma" "and names gamma"
            Expect.throwsT<NotSupportedException> (fun () -> (Distributions.categorical (tensor [ 0.5; 0.5 ])).Mean |> ignore) "categorical has no mean"
            Expect.throwsT<DTypeMismatchException> (fun () -> (Distributions.categorical (tensor [ 0.5; 0.5 ])).LogProb(s 1.0) |> ignore) "float class labels"
    ]

let tests = testList "distributions" [ knownValues; sampling; kl; derivatives; errors ]
