// The README's C# example, as a user's application built against the packed packages only: a layer of one's own
// (subclass Module, register, override Forward), trained with Adam.
using FunctionalAD;
using FunctionalAD.Imperative;

var g = new Generator(0);
var x = Tensor.Randn([128, 2], g);
var y = (x.Select(1, 0) * x.Select(1, 1)).Unsqueeze(1);            // learn x0·x1

var model = new MyBlock(2, 16);
var opt = new Adam(model.Parameters, lr: 0.02);
double first = 0, last = 0;
for (int step = 0; step < 300; step++)
{
    opt.ZeroGrad();
    var loss = Loss.Mse(model.Forward(x), y);
    loss.Backward();
    opt.Step();
    if (step == 0) first = loss.Item();
    last = loss.Item();
}
var names = string.Join(", ", model.NamedParameters().Select(p => p.Name));
Console.WriteLine($"parameters: {names}");
Console.WriteLine($"loss {first:F4} -> {last:F4}");
bool namesOk = names == "gate, hidden.w, hidden.b, out.w, out.b";
bool trained = last < first / 10;
bool gradient = AD.Grad(t => (t * t).Sum(), Tensor.FromArray(new[] { 1.0, 2.0 })).ToArray<double>().SequenceEqual(new[] { 2.0, 4.0 });
Console.WriteLine($"check: hierarchical parameter names: {(namesOk ? "ok" : "FAILED")}");
Console.WriteLine($"check: a Module subclass trains with Adam: {(trained ? "ok" : "FAILED")}");
Console.WriteLine($"check: AD.Grad: {(gradient ? "ok" : "FAILED")}");
return namesOk && trained && gradient ? 0 : 1;

/// <summary>tanh(x·W₁ + b₁)·gate, then a linear read-out: two Linear children and a parameter of its own.</summary>
sealed class MyBlock : Module
{
    readonly Linear hidden, output;
    readonly Parameter gate;

    public MyBlock(int inputs, int width)
    {
        gate = RegisterParameter("gate", Tensor.Ones([width]));
        hidden = RegisterModule("hidden", new Linear(inputs, width, seed: 1));
        output = RegisterModule("out", new Linear(width, 1, seed: 2));
    }

    public override Tensor Forward(Tensor x) => output.Forward(hidden.Forward(x).Tanh() * gate);
}
