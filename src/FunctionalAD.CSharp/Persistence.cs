using FunctionalAD.Data;
using FunctionalAD.Imperative;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;

namespace FunctionalAD
{
    /// <summary>A training checkpoint as C# sees it (see <see cref="Checkpoint"/>).</summary>
    /// <param name="Params">The parameters.</param>
    /// <param name="State">The optimizer state (step count and slots).</param>
    /// <param name="Position">The data loader's position (epoch, next batch).</param>
    /// <param name="Generator">The run's generator state, or null.</param>
    /// <param name="ModelState">Model state that gradients do not train (batch-norm statistics); empty when none.</param>
    public sealed record TrainingCheckpoint(Params Params, OptimizerState State, LoaderPosition Position,
        GeneratorState? Generator, IReadOnlyList<Tensor> ModelState);

    /// <summary>Checkpoints for C# (the F# <c>Checkpoint</c> module): one checksummed safetensors file, written to a
    /// temporary file, flushed and renamed, so a crash never loses the previous checkpoint.</summary>
    public static class Checkpoint
    {
        /// <summary>Writes a checkpoint atomically.</summary>
        /// <exception cref="ArgumentException">the optimizer state does not fit the parameters.</exception>
        /// <exception cref="IOException">the file could not be written.</exception>
        public static void Save(string path, Params parameters, OptimizerState state, LoaderPosition position,
            GeneratorState? generator = null, IReadOnlyList<Tensor>? modelState = null) =>
            CheckpointModule.save(path, new Checkpoint<Params>(parameters, state, modelState?.ToArray() ?? [], position,
                generator is { } g ? FSharpOption<GeneratorState>.Some(g) : FSharpOption<GeneratorState>.None,
                MapModule.Empty<string, string>()));

        /// <summary>Reads a checkpoint for parameters shaped like <paramref name="like"/>.</summary>
        /// <exception cref="Persistence.CorruptFileException">the file is damaged, truncated or not a checkpoint.</exception>
        /// <exception cref="LoadMismatchException">its parameters differ from <paramref name="like"/>'s (all listed).</exception>
        public static TrainingCheckpoint Load(string path, Params like)
        {
            var c = CheckpointModule.load(like, path);
            return new TrainingCheckpoint(c.Params, c.Optimizer, c.Position,
                FSharpOption<GeneratorState>.get_IsSome(c.Generator) ? c.Generator.Value : null, c.ModelState);
        }
    }
}

namespace FunctionalAD.Imperative
{
    /// <summary>Saving and loading a <see cref="Module"/>'s parameters as safetensors (names = parameter paths).</summary>
    public static class ModuleFiles
    {
        /// <summary>Writes the module's parameters to a safetensors file, atomically and with a checksum.</summary>
        /// <exception cref="IOException">the file could not be written.</exception>
        public static void Save(this Module module, string path) => module.Params.Save(path);

        /// <summary>Loads parameters from a safetensors file into the module. With <paramref name="strict"/> every
        /// name, shape and dtype must match (else <see cref="LoadMismatchException"/> lists the differences and
        /// nothing changes); otherwise what matches is loaded and the rest kept.</summary>
        /// <exception cref="Persistence.CorruptFileException">the file is damaged or truncated.</exception>
        public static void LoadFrom(this Module module, string path, bool strict = true) =>
            module.Load(Params.Load(path, module.Params, strict));
    }
}
