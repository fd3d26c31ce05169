// FunctionalAD from C#: the sin/cos check, generic math on Dual numbers, linear regression PyTorch-style
// (Linear/Sgd/Loss), and a Module of one's own trained with Adam.
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

// 3. Linear regression on y = 3x + 2 + noise, PyTorch-style with Linear/Sgd/Loss.
var rng = new Generator(0);
var data = (Tensor.Rand([100, 1], rng, DType.Float64) * 2.0 - 1.0).To(DType.Float32);
var target = (3.0 * data + 2.0 + 0.1 * Tensor.Randn([100, 1], rng)).To(DType.Float32);

var model = new Linear(1, 1, seed: 0);
var sgd = new Sgd(model.Parameters, lr: 0.1);
for (int epoch = 0; epoch < 500; epoch++)
{
    sgd.ZeroGrad();
    var loss = Loss.Mse(model.Forward(data), target);
    loss.Backward();
    sgd.Step();
}
foreach (var (name, p) in model.NamedParameters()) Console.WriteLine($"linear: {name} = {p.Value.Item():F4}");
bool fitOk = Math.Abs(model.W.Value.Item() - 3) < 0.1 && Math.Abs(model.B.Value.Item() - 2) < 0.1;

// 4. A layer of one's own: subclass Module, register parameters and children, override Forward.
var net = new TwoLayer(1, 16);
var adam = new Adam(net.Parameters, lr: 0.05);
var curve = data.Sin() * 2.0;
double first = 0, last = 0;
for (int step = 0; step < 200; step++)
{
    adam.ZeroGrad();
    var loss = Loss.Mse(net.Forward(data), curve);
    loss.Backward();
    adam.Step();
    if (step == 0) first = loss.Item();
    last = loss.Item();
}
Console.WriteLine($"TwoLayer: {string.Join(", ", net.NamedParameters().Select(p => p.Name))}; loss {first:F4} -> {last:F4}");
bool ownOk = last < first / 10;

Console.WriteLine($"checks: sin/cos {sinOk}, dual {dualOk}, regression {fitOk}, own module {ownOk}");
return sinOk && dualOk && fitOk && ownOk ? 0 : 1;

/// <summary>y = head(tanh(hidden(x)) · scale): two Linear children and a parameter of its own.</summary>
sealed class TwoLayer : Module
{
    readonly Linear hidden, head;
    readonly Parameter scale;

    public TwoLayer(int inputs, int width)
    {
        hidden = RegisterModule("hidden", new Linear(inputs, width, seed: 1));
        head = RegisterModule("head", new Linear(width, 1, seed: 2));
        scale = RegisterParameter("scale", Tensor.Ones([width]));
    }

    public override Tensor Forward(Tensor x) => head.Forward(hidden.Forward(x).Tanh() * scale);
}
