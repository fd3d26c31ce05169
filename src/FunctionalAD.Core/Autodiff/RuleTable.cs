using System.Collections.Concurrent;

namespace FunctionalAD.Autodiff;

/// <summary>
/// The rules of one transformation, keyed by primitive: the seam through which a transformation beyond jvp and vjp
/// (batching in the manner of JAX's vmap, shape inference, a cost model) is added without editing any primitive.
/// jvp and vjp keep their rules inside <see cref="Primitive"/>, because every taped operation reads them; another
/// transformation declares a table, defines a rule per <see cref="PrimitiveFamily"/> (every elementwise op batches
/// the same way) and per primitive where one needs its own, and looks rules up by primitive. A primitive with neither
/// fails by name, never silently.
/// </summary>
/// <typeparam name="TRule">The transformation's rule type (a delegate or an object).</typeparam>
internal sealed class RuleTable<TRule>(string transformation) where TRule : class
{
    readonly ConcurrentDictionary<Primitive, TRule> byPrimitive = new(ReferenceEqualityComparer.Instance);
    readonly ConcurrentDictionary<PrimitiveFamily, TRule> byFamily = new();

    /// <summary>The transformation's name, for errors.</summary>
    public string Transformation => transformation;

    /// <summary>Gives <paramref name="primitive"/> its own rule (it wins over the family's).</summary>
    public RuleTable<TRule> Define(Primitive primitive, TRule rule) { byPrimitive[primitive] = rule; return this; }

    /// <summary>Gives every primitive of <paramref name="family"/> without a rule of its own this rule.</summary>
    public RuleTable<TRule> Define(PrimitiveFamily family, TRule rule) { byFamily[family] = rule; return this; }

    /// <summary>The rule for <paramref name="primitive"/>, or null where none is defined.</summary>
    public TRule? Find(Primitive primitive) =>
        byPrimitive.TryGetValue(primitive, out var r) ? r : byFamily.GetValueOrDefault(primitive.Family);

    /// <summary>The rule for <paramref name="primitive"/>.</summary>
    /// <exception cref="InvalidOperationException">no rule is defined for it or its family, naming both.</exception>
    public TRule For(Primitive primitive) => Find(primitive)
        ?? throw new InvalidOperationException($"{transformation}: no rule for the primitive '{primitive.Name}' ({primitive.Family}); define one for the primitive or its family");
}
