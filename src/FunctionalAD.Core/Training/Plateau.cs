namespace FunctionalAD;

/// <summary>The counters of a <see cref="Plateau"/> schedule after some epochs: an immutable value, each
/// <see cref="Plateau.Step"/> returns a new one.</summary>
/// <param name="Best">The best (lowest) metric so far (+∞ before the first).</param>
/// <param name="BadEpochs">Epochs since the metric last improved.</param>
/// <param name="CooldownLeft">Epochs left in which bad epochs are not counted, after a reduction.</param>
/// <param name="LearningRates">The current learning rate of each group.</param>
public sealed record PlateauState(double Best, int BadEpochs, int CooldownLeft, IReadOnlyList<double> LearningRates)
{
    /// <summary>The first group's learning rate (the only one when there is one group).</summary>
    public double LearningRate => LearningRates[0];
}

/// <summary>
/// PyTorch's ReduceLROnPlateau (mode "min", threshold mode "rel") as a pure rule: each epoch's metric (a validation
/// loss) either improves on the best by more than <see cref="Threshold"/> (relative), or counts as a bad epoch;
/// after more than <see cref="Patience"/> bad epochs every learning rate is multiplied by <see cref="Factor"/>
/// (not below <see cref="MinLr"/>; a change smaller than <see cref="Eps"/> is skipped), then
/// <see cref="Cooldown"/> epochs pass without counting. The imperative wrapper over an optimizer is
/// <c>FunctionalAD.Imperative.ReduceLROnPlateau</c>; from F#, feed <see cref="PlateauState.LearningRate"/> to the
/// optimizer (<c>Optim.withLearningRate</c>).
/// </summary>
public sealed record Plateau
{
    /// <summary>The factor a learning rate is multiplied by (default 0.1; must be in (0, 1)).</summary>
    public double Factor { get; init; } = 0.1;
    /// <summary>Bad epochs tolerated before a reduction (default 10).</summary>
    public int Patience { get; init; } = 10;
    /// <summary>Relative improvement needed: better means metric &lt; best·(1 - threshold) (default 1e-4).</summary>
    public double Threshold { get; init; } = 1e-4;
    /// <summary>Epochs after a reduction in which bad epochs are not counted (default 0).</summary>
    public int Cooldown { get; init; }
    /// <summary>The lowest learning rate (default 0).</summary>
    public double MinLr { get; init; }
    /// <summary>A reduction smaller than this is skipped (default 1e-8).</summary>
    public double Eps { get; init; } = 1e-8;

    void Validate()
    {
        if (!(Factor > 0 && Factor < 1)) throw new ArgumentException($"ReduceLROnPlateau: factor must be in (0, 1), got {Factor}", nameof(Factor));
        if (Patience < 0) throw new ArgumentException($"ReduceLROnPlateau: patience must be >= 0, got {Patience}", nameof(Patience));
        if (Cooldown < 0) throw new ArgumentException($"ReduceLROnPlateau: cooldown must be >= 0, got {Cooldown}", nameof(Cooldown));
        if (Threshold < 0) throw new ArgumentException($"ReduceLROnPlateau: threshold must be >= 0, got {Threshold}", nameof(Threshold));
    }

    /// <summary>The state before the first epoch, for groups starting at the given learning rates.</summary>
    /// <exception cref="ArgumentException">no learning rate given, or a setting out of range (factor outside (0, 1),
    /// negative patience, cooldown or threshold).</exception>
    public PlateauState Start(params double[] learningRates)
    {
        Validate();
        if (learningRates.Length == 0) throw new ArgumentException("ReduceLROnPlateau: give at least one learning rate", nameof(learningRates));
        return new PlateauState(double.PositiveInfinity, 0, 0, learningRates.ToArray());
    }

    /// <summary>The state after an epoch whose metric is <paramref name="metric"/> (PyTorch's scheduler.step(metric)).</summary>
    /// <exception cref="ArgumentException">the metric is NaN.</exception>
    public PlateauState Step(PlateauState state, double metric)
    {
        if (double.IsNaN(metric)) throw new ArgumentException("ReduceLROnPlateau: the metric is NaN", nameof(metric));
        var (best, bad, cooldown, lrs) = state;
        if (metric < best * (1 - Threshold)) { best = metric; bad = 0; }
        else bad++;
        if (cooldown > 0) { cooldown--; bad = 0; }
        if (bad > Patience)
        {
            var reduced = new double[lrs.Count];
            for (int i = 0; i < reduced.Length; i++)
            {
                var lower = Math.Max(lrs[i] * Factor, MinLr);
                reduced[i] = lrs[i] - lower > Eps ? lower : lrs[i];
            }
            lrs = reduced;
            cooldown = Cooldown;
            bad = 0;
        }
        return new PlateauState(best, bad, cooldown, lrs);
    }
}
