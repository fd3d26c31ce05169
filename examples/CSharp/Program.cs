// FunctionalAD from C#: the sin/cos check, generic math on Dual numbers, and linear regression twice
// (PyTorch-style with Linear/Sgd/Loss, and functionally with Params/Optim).
using System.Numerics;
using FunctionalAD;
using FunctionalAD.Imperative;

// 1. The gradient of sin over one period is cos.
var xs = Tensor.Linspace(0, 2 * Math.PI, 5, DType.Float64);
var g = AD.Grad(x => x.Sin().Sum(), xs);
Console.WriteLine($"x        = {xs}");
Console.WriteLine($"grad sin = {g}");
Console.WriteLine($"cos x    = {xs.Cos()}");
bool sinOk = (g - xs.Cos()).Abs().Max().Item() < 1e-12;

// 2. One generic method, evaluated on double and differentiated on Dual<double>.
static T F<T>(T x) where T : IFloatingPointIeee754<T> => T.Sin(x) * x + T.Exp(x);
var (value, derivative) = Dual.ValueAndDiff(F, 0.8);
Console.WriteLine($"F(0.8) = {F(0.8):F6} = {value:F6}, F'(0.8) = {derivative:F6} (expected {Math.Cos(0.8) * 0.8 + Math.Sin(0.8) + Math.Exp(0.8):F6})");
bool dualOk = Math.Abs(derivative - (Math.Cos(0.8) * 0.8 + Math.Sin(0.8) + Math.Exp(0.8))) < 1e-12;

// 3. Linear regression on y = 3x + 2 + noise.
var rng = new Generator(0);
var data = Tensor.Rand([100, 1], rng, DType.Float64) * 2.0 - 1.0;
var target = 3.0 * data + 2.0 + 0.1 * Tensor.Randn([100, 1], rng, DType.Float64);

var model = new Linear(1, 1, seed: 0);
var sgd = new Sgd(model.Parameters, lr: 0.1);
for (int epoch = 0; epoch < 500; epoch++)
{
    sgd.ZeroGrad();
    var loss = Loss.Mse(model.Forward(data.To(DType.Float32)), target.To(DType.Float32));
    loss.Backward();
    sgd.Step();
}
foreach (var (name, p) in model.NamedParameters()) Console.WriteLine($"imperative: {name} = {p.Value.Item():F4}");

var parameters = model.Init(0);
var optimizer = Optim.Sgd(0.1);
var state = Optim.Init(optimizer, parameters);
for (int epoch = 0; epoch < 500; epoch++)
{
    var grads = Optim.Grad(q => Loss.Mse(model.Apply(q, data.To(DType.Float32)), target.To(DType.Float32)), parameters);
    (parameters, state) = Optim.Step(optimizer, state, parameters, grads);
}
Console.WriteLine($"functional: w = {parameters["w"].Item():F4}, b = {parameters["b"].Item():F4}  (true 3, 2)");
bool fitOk = Math.Abs(parameters["w"].Item() - 3) < 0.1 && Math.Abs(parameters["b"].Item() - 2) < 0.1
             && Math.Abs(model.Params["w"].Item() - parameters["w"].Item()) < 1e-4;
Console.WriteLine($"checks: sin/cos {sinOk}, dual {dualOk}, regression {fitOk}");
return sinOk && dualOk && fitOk ? 0 : 1;
