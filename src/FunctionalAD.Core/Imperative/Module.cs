using FunctionalAD.Persistence;

namespace FunctionalAD.Imperative;

/// <summary>
/// A layer or model with parameter cells, as in PyTorch and TorchSharp (nn.Module). Subclass it: register the
/// parameters and the child modules in the constructor, override <see cref="Forward"/>:
/// <code>
/// sealed class MyBlock : Module
/// {
///     readonly Parameter scale;
///     readonly Linear inner;
///     public MyBlock(int n)
///     {
///         scale = RegisterParameter("scale", Tensor.Ones([n]));
///         inner = RegisterModule("inner", new Linear(n, n));
///     }
///     public override Tensor Forward(Tensor x) => inner.Forward(x).Tanh() * scale;
/// }
/// </code>
/// Registration is explicit (no reflection over fields): what is registered, and under which name, is what
/// <see cref="NamedParameters"/> lists ("inner.w"), what optimizers update and what <see cref="Save"/> writes.
/// A parameter used in Forward (through the implicit conversion to Tensor or <see cref="Parameter.Tracked"/>) has
/// its <see cref="Parameter.Grad"/> filled by <c>loss.Backward()</c>.
/// </summary>
public abstract class Module
{
    readonly List<(string Name, Parameter Parameter)> parameters = [];
    readonly List<(string Name, Module Module)> children = [];
    readonly List<(string Name, Buffer Buffer)> buffers = [];

    /// <summary>A module with no parameters and no children yet; register them in the subclass's constructor.</summary>
    protected Module() { }

    /// <summary>Whether the module is in training mode (the default) or evaluation mode; layers whose behaviour
    /// differs (dropout, batch normalisation) read it. Set by <see cref="Train"/> and <see cref="Eval"/>.</summary>
    public bool Training { get; private set; } = true;

    void CheckName(string name, string what)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Contains('.'))
            throw new ArgumentException($"{GetType().Name}: '{name}' is not a valid {what} name (non-empty, no '.')", nameof(name));
        if (parameters.Exists(p => p.Name == name) || children.Exists(c => c.Name == name) || buffers.Exists(b => b.Name == name))
            throw new ArgumentException($"{GetType().Name}: the name '{name}' is registered twice", nameof(name));
    }

    /// <summary>Registers a new parameter cell holding <paramref name="value"/> under <paramref name="name"/> and returns it.</summary>
    /// <exception cref="ArgumentException">the name is empty, contains '.', or is already registered.</exception>
    /// <exception cref="DTypeMismatchException">value is not floating point.</exception>
    protected Parameter RegisterParameter(string name, Tensor value) => RegisterParameter(name, new Parameter(name, value));

    /// <summary>Registers an existing parameter cell under <paramref name="name"/> (a cell may be shared between
    /// modules) and returns it.</summary>
    /// <exception cref="ArgumentException">the name is empty, contains '.', or is already registered.</exception>
    protected Parameter RegisterParameter(string name, Parameter parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        CheckName(name, "parameter");
        parameters.Add((name, parameter));
        return parameter;
    }

    /// <summary>Registers a child module under <paramref name="name"/> (its parameters are listed as "name.…") and returns it.</summary>
    /// <exception cref="ArgumentException">the name is empty, contains '.', or is already registered, or the
    /// child is this module.</exception>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        if (ReferenceEquals(module, this)) throw new ArgumentException($"{GetType().Name}: a module cannot be its own child", nameof(module));
        CheckName(name, "module");
        children.Add((name, module));
        return module;
    }

    /// <summary>Registers state that is not a parameter (PyTorch's register_buffer: running statistics) under
    /// <paramref name="name"/> and returns its cell; it is saved and loaded with the parameters.</summary>
    /// <exception cref="ArgumentException">the name is empty, contains '.', or is already registered.</exception>
    protected Buffer RegisterBuffer(string name, Tensor value)
    {
        CheckName(name, "buffer");
        var b = new Buffer(name, value);
        buffers.Add((name, b));
        return b;
    }

    /// <summary>(path, buffer) pairs of this module's buffers, then of each child's, in registration order:
    /// PyTorch's named_buffers().</summary>
    public IReadOnlyList<(string Name, Buffer Buffer)> NamedBuffers()
    {
        var result = new List<(string, Buffer)>();
        CollectBuffers("", result);
        return result;
    }

    void CollectBuffers(string prefix, List<(string, Buffer)> into)
    {
        foreach (var (name, b) in buffers) into.Add((prefix + name, b));
        foreach (var (name, child) in children) child.CollectBuffers(prefix + name + ".", into);
    }

    /// <summary>The module's output for <paramref name="input"/>.</summary>
    public abstract Tensor Forward(Tensor input);

    /// <summary>Same as <see cref="Forward"/> (TorchSharp's call).</summary>
    public Tensor Invoke(Tensor input) => Forward(input);

    /// <summary>The registered children, in registration order.</summary>
    public IReadOnlyList<(string Name, Module Module)> NamedChildren() => children.ToArray();

    /// <summary>(path, cell) pairs of this module's parameters, then of each child's (paths "child.name"), in
    /// registration order: PyTorch's named_parameters(). A cell registered twice is listed once.</summary>
    public IReadOnlyList<NamedParameter> NamedParameters()
    {
        var result = new List<NamedParameter>();
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        Collect("", result, seen);
        return result;
    }

    void Collect(string prefix, List<NamedParameter> into, HashSet<Parameter> seen)
    {
        foreach (var (name, p) in parameters)
            if (seen.Add(p)) into.Add(new NamedParameter(prefix + name, p));
        foreach (var (name, child) in children) child.Collect(prefix + name + ".", into, seen);
    }

    /// <summary>The parameter cells, in <see cref="NamedParameters"/> order.</summary>
    public IReadOnlyList<Parameter> Parameters => NamedParameters().Select(p => p.Parameter).ToArray();

    /// <summary>Clears every parameter's gradient (to null).</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters) p.Grad = null;
    }

    /// <summary>Puts this module and every descendant in training mode (<paramref name="training"/> true, the
    /// default) or evaluation mode; returns this module.</summary>
    public Module Train(bool training = true)
    {
        Training = training;
        foreach (var (_, child) in children) child.Train(training);
        return this;
    }

    /// <summary>Evaluation mode for this module and every descendant (<c>Train(false)</c>); returns this module.</summary>
    public Module Eval() => Train(false);

    /// <summary>The current values by path, in <see cref="NamedParameters"/> order, then the buffers' (PyTorch's
    /// state_dict()).</summary>
    public IReadOnlyDictionary<string, Tensor> StateDict()
    {
        var d = new Dictionary<string, Tensor>();
        foreach (var (name, p) in NamedParameters()) d[name] = p.Value;
        foreach (var (name, b) in NamedBuffers()) d[name] = b.Value;
        return d;
    }

    /// <summary>Replaces parameter and buffer values from named tensors (PyTorch's load_state_dict). With
    /// <paramref name="strict"/> every path, shape and dtype must match, else nothing changes; otherwise what
    /// matches is loaded and the rest kept. Tensors move to each parameter's device. Returns the differences.</summary>
    /// <exception cref="ModuleLoadException">strict, and something differs (all differences listed).</exception>
    public LoadDifferences LoadStateDict(IReadOnlyDictionary<string, Tensor> values, bool strict = true) =>
        Load(values, strict, "state dict");

    LoadDifferences Load(IReadOnlyDictionary<string, Tensor> values, bool strict, string source)
    {
        ArgumentNullException.ThrowIfNull(values);
        // every cell by path: the parameters', then the buffers' (current value, and how to replace it)
        var cells = NamedParameters().Select(n => (n.Name, Current: n.Parameter.Value, Set: (Action<Tensor>)(t => n.Parameter.Value = t)))
            .Concat(NamedBuffers().Select(n => (n.Name, Current: n.Buffer.Value, Set: (Action<Tensor>)(t => n.Buffer.Value = t))))
            .ToList();
        var missing = new List<string>();
        var mismatched = new List<(string, string)>();
        var updates = new List<(Action<Tensor>, Tensor)>();
        foreach (var (name, current, set) in cells)
        {
            if (!values.TryGetValue(name, out var t)) { missing.Add(name); continue; }
            if (t.DType != current.DType || !t.Shape.AsSpan().SequenceEqual(current.Shape))
                mismatched.Add((name, $"the source has {t.DType} {Shape.Format(t.Shape)}, the module {current.DType} {Shape.Format(current.Shape)}"));
            else updates.Add((set, t.ToDevice(current.Device)));
        }
        var known = cells.Select(n => n.Name).ToHashSet();
        var unexpected = values.Keys.Where(k => !known.Contains(k)).ToList();
        var differences = new LoadDifferences(missing, unexpected, mismatched);
        if (strict && !differences.IsExact) throw new ModuleLoadException(source, differences);
        foreach (var (set, t) in updates) set(t);
        return differences;
    }

    /// <summary>Writes the parameters and buffers to a safetensors file (names = paths), atomically and with a checksum;
    /// PyTorch's <c>safetensors.torch.load_file</c> reads it, and the F# <c>Params.load</c> too.</summary>
    /// <exception cref="IOException">the file could not be written.</exception>
    public void Save(string path) => SafeTensors.Save(path, StateDict());

    /// <summary>Loads parameters from a safetensors file (see <see cref="LoadStateDict"/> for strict and the result).</summary>
    /// <exception cref="CorruptFileException">the file is damaged or truncated.</exception>
    /// <exception cref="FileNotFoundException">the file does not exist.</exception>
    /// <exception cref="ModuleLoadException">strict, and something differs.</exception>
    public LoadDifferences Load(string path, bool strict = true)
    {
        var file = SafeTensors.Load(path);
        var values = new Dictionary<string, Tensor>();
        foreach (var kv in file.Tensors) values[kv.Key] = kv.Value;
        return Load(values, strict, path);
    }

    /// <summary>The module's type name, then one line per parameter: path, shape, dtype.</summary>
    public override string ToString()
    {
        var named = NamedParameters();
        var lines = named.Select(n => $"  {n.Name,-24} {Shape.Format(n.Parameter.Value.Shape),-14} {n.Parameter.Value.DType}");
        long total = named.Sum(n => (long)n.Parameter.Value.Numel);
        return $"{GetType().Name} ({named.Count} parameters, {total} elements)" + (named.Count == 0 ? "" : "\n" + string.Join("\n", lines));
    }
}
