using FunctionalAD.Autodiff;

namespace FunctionalAD;

/// <summary>The gradients of one <see cref="Tensor.Backward"/> call, looked up by leaf.</summary>
public sealed class Gradients
{
    readonly Tensor root;
    readonly Dictionary<Node, Tensor> cache = new(ReferenceEqualityComparer.Instance);

    internal Gradients(Tensor root)
    {
        this.root = root;
        var (leaves, adj) = Backprop.RunToLeaves(root.node!, Tensor.OnesLike(root.primal!));
        for (int i = 0; i < leaves.Length; i++) if (adj[i] is { } a) cache[leaves[i]] = a;
        foreach (var leaf in leaves)
            leaf.Sink?.Accumulate(cache.TryGetValue(leaf, out var g) ? g : Tensor.ZerosView(leaf.Output));
    }

    /// <summary>The gradient of the backward root with respect to <paramref name="leaf"/> (zeros if unused).</summary>
    /// <exception cref="ArgumentException">leaf is not a tensor returned by RequiresGrad.</exception>
    public Tensor this[Tensor leaf]
    {
        get
        {
            if (leaf.node is not { Op: null } n || !leaf.IsTracked)
                throw new ArgumentException("gradients: the tensor is not a leaf created with RequiresGrad", nameof(leaf));
            return cache.TryGetValue(n, out var g) ? g : Tensor.ZerosView(leaf.primal!);
        }
    }

    /// <summary>The leaves that received a gradient.</summary>
    public int Count => cache.Count;

    /// <inheritdoc/>
    public override string ToString() => $"Gradients of {root.GradFn} for {cache.Count} leaves";
}
