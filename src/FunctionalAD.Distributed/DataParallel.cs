using System.Diagnostics;
using System.Runtime.InteropServices;

namespace FunctionalAD;

/// <summary>Where the time of the last <see cref="DataParallel.ValueAndGrad"/> went.</summary>
/// <param name="ComputeSeconds">Forward and backward pass, including the all-reduces started and progressed during
/// the backward pass.</param>
/// <param name="ExposedSeconds">Waiting for the all-reduces after the backward pass ended (communication not hidden
/// behind it), plus unpacking the averaged gradients.</param>
/// <param name="Buckets">The number of all-reduces (buckets) per step.</param>
/// <param name="StartedDuringBackward">How many of them started before the backward pass ended.</param>
public readonly record struct StepTimes(double ComputeSeconds, double ExposedSeconds, int Buckets, int StartedDuringBackward);

/// <summary>
/// Data-parallel gradients (PyTorch's DistributedDataParallel, for a pure loss function): every rank computes the
/// gradient of its own share of the batch; the gradients are averaged over the ranks in buckets, each bucket
/// all-reduced (MPI_Iallreduce) as soon as its gradients are final during the backward pass, so communication
/// overlaps the gradients still being computed. Every rank then holds the same averaged gradients, and the same
/// optimizer step keeps the ranks' parameters identical.
/// <para>
/// Buckets are fixed once: the parameters in reverse order (the last layers' gradients complete first), cut into
/// runs of one dtype of at most BucketBytes. They are started in that order on every rank (MPI needs the same
/// collectives in the same order everywhere), each once all its gradients are ready and the ones before it have
/// started. Constructing one is a collective: every rank must pass parameters of the same dtypes and shapes.
/// </para>
/// </summary>
public sealed unsafe class DataParallel
{
    sealed class Bucket
    {
        public required DType DType;
        public required int[] Members;  // parameter indices
        public required long[] Offsets; // element offset of each member
        public required Array Buffer;   // pinned T[]
        public required nint Address;
        public int Pending;
        public int Request = Mpi.RequestNull;
        public bool Started;
    }

    readonly World world;
    readonly int[][] shapes;
    readonly DType[] dtypes;
    readonly Bucket[] buckets;
    readonly int[] bucketOf;
    readonly int[] positionOf; // member position within its bucket
    int nextToStart;

    /// <summary>A reducer for parameters shaped like <paramref name="parameters"/> (a collective: every rank calls it).</summary>
    /// <param name="world">The world whose ranks average their gradients.</param>
    /// <param name="parameters">The parameters, in the order ValueAndGrad receives them.</param>
    /// <param name="bucketBytes">The most bytes per all-reduce (PyTorch's bucket_cap_mb; default 1 MiB: small enough
    /// to overlap on CPUs, large enough to amortise MPI's latency). A single larger tensor gets a bucket of its own.</param>
    /// <param name="overlap">Start each bucket during the backward pass (true) or all of them after it (false: for
    /// measuring what the overlap hides).</param>
    /// <exception cref="DTypeMismatchException">a parameter is not floating point.</exception>
    /// <exception cref="DistributedException">the ranks' parameters differ in number, dtype or shape.</exception>
    public DataParallel(World world, IReadOnlyList<Tensor> parameters, int bucketBytes = 1 << 20, bool overlap = true)
    {
        ArgumentNullException.ThrowIfNull(world);
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketBytes, 1);
        this.world = world;
        Overlap = overlap;
        BucketBytes = bucketBytes;
        int n = parameters.Count;
        shapes = new int[n][];
        dtypes = new DType[n];
        for (int i = 0; i < n; i++)
        {
            var p = parameters[i] ?? throw new ArgumentNullException(nameof(parameters), $"DataParallel: parameter {i} is null");
            if (!p.DType.IsFloatingPoint())
                throw new DTypeMismatchException("DataParallel", $"parameter {i} (shape {Shape.Format(p.Shape)}) is {p.DType}; parameters must be floating point");
            (shapes[i], dtypes[i]) = (p.Shape, p.DType);
        }
        CheckSameEverywhere();
        bucketOf = new int[n];
        positionOf = new int[n];
        var list = new List<Bucket>();
        var members = new List<int>();
        long elements = 0;
        DType current = default;
        void Close()
        {
            if (members.Count == 0) return;
            list.Add(NewBucket(current, [.. members], elements));
            members.Clear();
            elements = 0;
        }
        for (int i = n - 1; i >= 0; i--)
        {
            long numel = parameters[i].Numel;
            int size = dtypes[i] == DType.Float64 ? 8 : 4;
            if (members.Count > 0 && (dtypes[i] != current || (elements + numel) * size > bucketBytes)) Close();
            current = dtypes[i];
            bucketOf[i] = list.Count;
            positionOf[i] = members.Count;
            members.Add(i);
            elements += numel;
        }
        Close();
        buckets = [.. list];
    }

    /// <summary>The most bytes per bucket.</summary>
    public int BucketBytes { get; }
    /// <summary>Whether buckets start during the backward pass.</summary>
    public bool Overlap { get; }
    /// <summary>The number of buckets (all-reduces per step).</summary>
    public int BucketCount => buckets.Length;
    /// <summary>Timings of the last step.</summary>
    public StepTimes LastStep { get; private set; }

    Bucket NewBucket(DType dtype, int[] members, long elements)
    {
        if (elements > int.MaxValue) throw new DistributedException($"DataParallel: a bucket of {elements} elements is larger than one MPI message");
        var offsets = new long[members.Length];
        long o = 0;
        for (int k = 0; k < members.Length; k++) { offsets[k] = o; o += Numel(shapes[members[k]]); }
        Array buffer = dtype == DType.Float64 ? GC.AllocateArray<double>((int)elements, pinned: true) : GC.AllocateArray<float>((int)elements, pinned: true);
        nint address = Marshal.UnsafeAddrOfPinnedArrayElement(buffer, 0);
        return new Bucket { DType = dtype, Members = members, Offsets = offsets, Buffer = buffer, Address = address };
    }

    static long Numel(int[] shape) { long n = 1; foreach (var d in shape) n *= d; return n; }

    /// <summary>Every rank must have the same parameter structure: compare a fingerprint with one all-reduce (max of
    /// h and of -h gives the largest and smallest fingerprint).</summary>
    void CheckSameEverywhere()
    {
        long h = shapes.Length;
        for (int i = 0; i < shapes.Length; i++)
        {
            h = h * 1_000_003 + (long)dtypes[i];
            foreach (var d in shapes[i]) h = h * 1_000_003 + d;
            h = h * 1_000_003 - 1;
        }
        Span<long> v = [h, -h];
        world.AllReduce(v, ReduceOp.Max);
        if (v[0] != h || -v[1] != h)
            throw new DistributedException($"DataParallel: rank {world.Rank}'s parameters ({shapes.Length} tensors) differ from another rank's in number, dtype or shape; every rank must build the same model");
    }

    /// <summary>
    /// The loss of this rank's batch at <paramref name="parameters"/> and the gradients averaged over all ranks
    /// (each rank passes its own share of the global batch; with equal shares and a mean loss the result is the
    /// gradient of the global batch's mean loss). A collective: every rank calls it once per step. The gradients
    /// carry no derivative. In a world of one process it is <see cref="Transform.ValueAndGrad(Func{Tensor[], Tensor}, Tensor[])"/>.
    /// </summary>
    /// <exception cref="ArgumentException">the parameters are not shaped as the ones this reducer was made for.</exception>
    /// <exception cref="ShapeMismatchException">loss does not return a one-element tensor.</exception>
    public (Tensor Value, Tensor[] Gradients) ValueAndGrad(Func<Tensor[], Tensor> loss, Tensor[] parameters)
    {
        ArgumentNullException.ThrowIfNull(loss);
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Length != shapes.Length)
            throw new ArgumentException($"DataParallel.ValueAndGrad: got {parameters.Length} parameters; this reducer was made for {shapes.Length}", nameof(parameters));
        for (int i = 0; i < parameters.Length; i++)
            if (parameters[i].DType != dtypes[i] || !parameters[i].Shape.AsSpan().SequenceEqual(shapes[i]))
                throw new ArgumentException($"DataParallel.ValueAndGrad: parameter {i} is {parameters[i].DType} {Shape.Format(parameters[i].Shape)}; this reducer was made for {dtypes[i]} {Shape.Format(shapes[i])}", nameof(parameters));
        if (world.Size == 1)
        {
            long t = Stopwatch.GetTimestamp();
            var r = Transform.ValueAndGrad(loss, parameters);
            LastStep = new StepTimes(Stopwatch.GetElapsedTime(t).TotalSeconds, 0, 0, 0);
            return r;
        }
        foreach (var b in buckets) { b.Pending = b.Members.Length; b.Started = false; b.Request = Mpi.RequestNull; }
        nextToStart = 0;
        long t0 = Stopwatch.GetTimestamp();
        var (value, _) = Transform.ValueAndGrad(loss, parameters, OnGradient);
        int startedDuring = nextToStart;
        long t1 = Stopwatch.GetTimestamp();
        StartReady();
        var grads = new Tensor[parameters.Length];
        var device = parameters.Length > 0 ? parameters[0].Device : Device.Cpu;
        foreach (var b in buckets)
        {
            world.Wait(ref b.Request, "DataParallel gradient all-reduce", t1);
            if (b.DType == DType.Float64) Unpack<double>(b, grads, parameters);
            else Unpack<float>(b, grads, parameters);
        }
        LastStep = new StepTimes(Stopwatch.GetElapsedTime(t0, t1).TotalSeconds, Stopwatch.GetElapsedTime(t1).TotalSeconds, buckets.Length, startedDuring);
        return (value, grads);
    }

    void OnGradient(int i, Tensor g)
    {
        var b = buckets[bucketOf[i]];
        long offset = b.Offsets[positionOf[i]];
        if (b.DType == DType.Float64) g.ToArray<double>().CopyTo((double[])b.Buffer, offset);
        else g.ToArray<float>().CopyTo((float[])b.Buffer, offset);
        b.Pending--;
        if (!Overlap) return;
        StartReady();
        // MPI progresses non-blocking collectives only inside MPI calls: test the running ones while computing
        for (int k = 0; k < nextToStart; k++)
            if (buckets[k].Request != Mpi.RequestNull) world.Test(ref buckets[k].Request);
    }

    void StartReady()
    {
        while (nextToStart < buckets.Length && buckets[nextToStart].Pending == 0)
        {
            var b = buckets[nextToStart++];
            b.Started = true;
            b.Request = world.StartAllReduce(b.Address, b.Buffer.Length, b.DType == DType.Float64 ? Mpi.Double : Mpi.Float, ReduceOp.Sum);
        }
    }

    void Unpack<T>(Bucket b, Tensor[] grads, Tensor[] parameters) where T : unmanaged
    {
        var buffer = (T[])b.Buffer;
        World.Scale<T>(buffer, 1.0 / world.Size);
        for (int k = 0; k < b.Members.Length; k++)
        {
            int i = b.Members[k];
            var part = new T[Numel(shapes[i])];
            Array.Copy(buffer, b.Offsets[k], part, 0, part.Length);
            grads[i] = Tensor.FromArray(part, shapes[i]).ToDevice(parameters[i].Device);
        }
    }
}
