// FunctionalAD from C#: the sin/cos check and linear regression by gradient descent.
using FunctionalAD;

// 1. The gradient of sin over one period is cos.
var xs = Tensor.Linspace(0, 2 * Math.PI, 5, DType.Float64);
var g = AD.Grad(x => x.Sin().Sum(), xs);
Console.WriteLine($"x        = {xs}");
Console.WriteLine($"grad sin = {g}");
Console.WriteLine($"cos x    = {xs.Cos()}");
bool sinOk = (g - xs.Cos()).Abs().Max().Item() < 1e-12;

// 2. Linear regression: fit y = 3x + 2 from noisy samples with plain gradient descent on (w, b).
var rng = new Generator(0);
var x = Tensor.Rand([100, 1], rng, DType.Float64) * 2.0 - 1.0;
var y = 3.0 * x + 2.0 + 0.1 * Tensor.Randn([100, 1], rng, DType.Float64);
Tensor w = Tensor.Zeros([1, 1], DType.Float64), b = Tensor.Zeros([1], DType.Float64);
Console.WriteLine($"before: w = {w.Item():F4}, b = {b.Item():F4}");
for (int epoch = 0; epoch < 500; epoch++)
{
    var (gw, gb) = AD.Grad((w_, b_) => (x.MatMul(w_) + b_ - y).Square().Mean(), w, b);
    w -= 0.1 * gw;
    b -= 0.1 * gb;
}
Console.WriteLine($"after:  w = {w.Item():F4}, b = {b.Item():F4}  (true 3, 2)");
bool fitOk = Math.Abs(w.Item() - 3) < 0.1 && Math.Abs(b.Item() - 2) < 0.1;
Console.WriteLine($"checks: sin/cos {sinOk}, regression {fitOk}");
return sinOk && fitOk ? 0 : 1;
