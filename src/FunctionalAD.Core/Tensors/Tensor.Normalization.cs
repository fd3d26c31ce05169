namespace FunctionalAD;

/// <summary>
/// What <see cref="Tensor.BatchNorm"/> gives: the normalised output and the running statistics after this call
/// (unchanged in evaluation mode). The running statistics carry no derivative.
/// </summary>
/// <param name="Output">The normalised input, of the input's shape.</param>
/// <param name="RunningMean">The running mean [C] after the update.</param>
/// <param name="RunningVar">The running variance [C] after the update.</param>
public sealed record BatchNormResult(Tensor Output, Tensor RunningMean, Tensor RunningVar);

public sealed partial class Tensor
{
    /// <summary>
    /// Batch normalisation as PyTorch's <c>batch_norm</c>, over an input [N, C, *] (channels in dimension 1).
    /// In training (<paramref name="training"/> true) each channel is normalised with the batch's mean and biased
    /// variance over every dimension but 1, and the running statistics move towards the batch's:
    /// running = (1 - momentum)·running + momentum·batch, with the unbiased variance (n/(n-1)) for the running variance.
    /// In evaluation the running statistics normalise and are returned unchanged. Then y = x̂·weight + bias per
    /// channel (each optional). Derivatives flow through the batch statistics in training, to every order; the
    /// returned running statistics are constants with the running statistics' dtype.
    /// </summary>
    /// <exception cref="ShapeMismatchException">the input has fewer than 2 dimensions; a statistic, weight or bias is
    /// not [C]; training with one value per channel.</exception>
    public BatchNormResult BatchNorm(Tensor runningMean, Tensor runningVar, Tensor? weight, Tensor? bias, bool training,
                                     double momentum = 0.1, double eps = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(runningMean); ArgumentNullException.ThrowIfNull(runningVar);
        const string op = "batchNorm";
        if (Rank < 2)
            throw new ShapeMismatchException(op, $"the input must be [N, C, *] with at least 2 dimensions, got {F(shape)}");
        int c = shape[1];
        foreach (var (name, t) in new[] { ("running mean", runningMean), ("running variance", runningVar), ("weight", weight), ("bias", bias) })
            if (t is not null && (t.Rank != 1 || t.shape[0] != c))
                throw new ShapeMismatchException(op, $"the {name} has shape {F(t.shape)} but the input {F(shape)} has {c} channels (dimension 1): expected [{c}]");
        var perChannel = new int[Rank];
        Array.Fill(perChannel, 1);
        perChannel[1] = c;
        var dims = Enumerable.Range(0, Rank).Where(d => d != 1).ToArray();
        Tensor mean, variance, newMean = runningMean, newVar = runningVar;
        if (training)
        {
            long n = Numel / Math.Max(1, c);
            if (n <= 1)
                throw new ShapeMismatchException(op, $"training needs more than 1 value per channel, got input {F(shape)}");
            mean = Mean(dims, keepDim: true);
            var centered = this - mean;
            variance = (centered * centered).Mean(dims, keepDim: true);
            var batchMean = mean.StopGradient().Reshape(c);
            var batchVar = variance.StopGradient().Reshape(c) * ((double)n / (n - 1));
            newMean = (runningMean.StopGradient() * (1 - momentum) + batchMean * momentum).To(runningMean.DType);
            newVar = (runningVar.StopGradient() * (1 - momentum) + batchVar * momentum).To(runningVar.DType);
            var yTrain = centered * (variance + eps).Rsqrt();
            return new BatchNormResult(Affine(yTrain, weight, bias, perChannel), newMean, newVar);
        }
        mean = runningMean.Reshape(perChannel);
        variance = runningVar.Reshape(perChannel);
        var y = (this - mean) * (variance + eps).Rsqrt();
        return new BatchNormResult(Affine(y, weight, bias, perChannel), runningMean, runningVar);
    }

    /// <summary>
    /// Group normalisation as PyTorch's <c>group_norm</c>: the channels of an input [N, C, *] are split into
    /// <paramref name="groups"/> groups; each (sample, group) is normalised with its own mean and biased variance,
    /// then y = x̂·weight + bias per channel (each optional, [C]).
    /// </summary>
    /// <exception cref="ShapeMismatchException">the input has fewer than 2 dimensions, or weight or bias is not [C].</exception>
    /// <exception cref="ArgumentException">groups does not divide the number of channels.</exception>
    public Tensor GroupNorm(int groups, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        const string op = "groupNorm";
        if (Rank < 2)
            throw new ShapeMismatchException(op, $"the input must be [N, C, *] with at least 2 dimensions, got {F(shape)}");
        int c = shape[1];
        if (groups <= 0 || c % groups != 0)
            throw new ArgumentException($"{op}: {groups} groups do not divide the {c} channels of the input {F(shape)}", nameof(groups));
        foreach (var (name, t) in new[] { ("weight", weight), ("bias", bias) })
            if (t is not null && (t.Rank != 1 || t.shape[0] != c))
                throw new ShapeMismatchException(op, $"the {name} has shape {F(t.shape)} but the input {F(shape)} has {c} channels: expected [{c}]");
        var grouped = Reshape(shape[0], groups, -1);
        var centered = grouped - grouped.Mean(-1, keepDim: true);
        var variance = (centered * centered).Mean(-1, keepDim: true);
        var y = (centered * (variance + eps).Rsqrt()).Reshape(shape);
        var perChannel = new int[Rank];
        Array.Fill(perChannel, 1);
        perChannel[1] = c;
        return Affine(y, weight, bias, perChannel);
    }

    static Tensor Affine(Tensor y, Tensor? weight, Tensor? bias, int[] perChannel)
    {
        if (weight is not null) y = y * weight.Reshape(perChannel);
        if (bias is not null) y = y + bias.Reshape(perChannel);
        return y;
    }
}
