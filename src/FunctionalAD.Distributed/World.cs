using System.Diagnostics;
using System.Runtime.InteropServices;

namespace FunctionalAD;

/// <summary>How an all-reduce combines the ranks' values, elementwise.</summary>
public enum ReduceOp
{
    /// <summary>The sum over ranks.</summary>
    Sum,
    /// <summary>The sum over ranks divided by the number of ranks (floating-point tensors only).</summary>
    Mean,
    /// <summary>The maximum over ranks.</summary>
    Max,
}

/// <summary>
/// The processes of one data-parallel job (MPI's COMM_WORLD) and its collectives. <see cref="Init"/> reads the
/// launcher's environment: started by <c>mpirun</c>/<c>mpiexec</c> (MPICH's Hydra sets PMI_RANK/PMI_SIZE, Open
/// MPI's launcher OMPI_COMM_WORLD_SIZE) it loads MPI; started alone it is a world of one process that loads no MPI
/// library at all, and every collective returns its input.
/// <para>
/// Every collective is non-blocking underneath (MPI_Iallreduce, MPI_Ibcast, MPI_Ibarrier) and completed by polling
/// MPI_Test, so a <see cref="Timeout"/> can end a job whose peer has died or diverged. All MPI calls are made under
/// one lock (MPI_THREAD_SERIALIZED suffices); a training loop makes them from its own thread.
/// </para>
/// <para>
/// Failure: once MPI is initialised, an unhandled exception on any thread of any rank prints the rank and the
/// exception on stderr and calls MPI_Abort, so the whole job ends with a non-zero exit code at once (otherwise the
/// other ranks would wait in their next collective forever). A collective that exceeds the timeout does the same.
/// </para>
/// </summary>
public sealed unsafe class World : IDisposable
{
    static readonly object initLock = new();
    static World? current; // MPI can be initialised once per process, so the world is process-wide

    readonly Mpi? mpi;
    readonly object callLock = new();
    bool finalized;

    World(Mpi? mpi, int rank, int size, int localRank, int localSize, string processorName, string library, TimeSpan? timeout)
    {
        this.mpi = mpi;
        (Rank, Size, LocalRank, LocalSize, ProcessorName, Library, Timeout) = (rank, size, localRank, localSize, processorName, library, timeout);
    }

    /// <summary>This process's rank in [0, Size).</summary>
    public int Rank { get; }
    /// <summary>The number of processes.</summary>
    public int Size { get; }
    /// <summary>This process's rank among the processes on its machine (to pick a GPU or a core set).</summary>
    public int LocalRank { get; }
    /// <summary>The number of processes on this machine.</summary>
    public int LocalSize { get; }
    /// <summary>The machine's name as MPI reports it (the host name for a single process).</summary>
    public string ProcessorName { get; }
    /// <summary>The MPI library in use (its version line), or "none" for a single process without MPI.</summary>
    public string Library { get; }
    /// <summary>The machine's cores shared out among its ranks (at least 1): the kernel thread limit for one rank
    /// (<c>using (Parallelism.Limit(world.ThreadsPerRank))</c>), so that ranks on one machine do not oversubscribe
    /// its cores (PyTorch's launcher sets OMP_NUM_THREADS likewise).</summary>
    public int ThreadsPerRank => Math.Max(1, Environment.ProcessorCount / Math.Max(1, LocalSize));
    /// <summary>True on rank 0, the rank that writes checkpoints and logs.</summary>
    public bool IsMain => Rank == 0;
    /// <summary>True when MPI is in use (the process was started by an MPI launcher).</summary>
    public bool UsesMpi => mpi is not null;
    /// <summary>How long one collective may wait for the other ranks before the job is aborted with a message
    /// naming the collective and the rank; null waits forever. Initially from <see cref="Init"/>, else from the
    /// environment variable FUNCTIONALAD_COLLECTIVE_TIMEOUT (seconds).</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>
    /// The world of this process: initialises MPI (MPI_Init_thread, MPI_THREAD_SERIALIZED) when the process was
    /// started by an MPI launcher, else a world of size 1 without MPI. Later calls return the same world.
    /// </summary>
    /// <param name="timeout">The collectives' timeout (see <see cref="Timeout"/>); null: the environment's or none.</param>
    /// <exception cref="DistributedException">no MPI library can be loaded, the library is Open MPI, MPI fails to
    /// start, the world was already finalised, or MPI's world size differs from the launcher's (an MPICH-linked
    /// program started by another MPI's mpirun runs as N separate one-process worlds).</exception>
    public static World Init(TimeSpan? timeout = null)
    {
        lock (initLock)
        {
            if (current is { } w)
            {
                if (w.finalized) throw new DistributedException("World.Init: MPI was already finalised in this process (it cannot be started twice)");
                if (timeout is not null) w.Timeout = timeout;
                return w;
            }
            timeout ??= EnvironmentTimeout();
            var launcherSize = LauncherSize();
            current = launcherSize is null
                ? new World(null, 0, 1, 0, 1, Environment.MachineName, "none", timeout)
                : Start(launcherSize.Value, timeout);
            return current;
        }
    }

    static int? EnvInt(string name) => int.TryParse(Environment.GetEnvironmentVariable(name), out var v) ? v : null;

    /// <summary>The number of processes the launcher says it started; null when no MPI launcher started this one.</summary>
    static int? LauncherSize() => EnvInt("PMI_SIZE") ?? EnvInt("OMPI_COMM_WORLD_SIZE") ?? EnvInt("PMIX_SIZE")
        ?? (EnvInt("PMI_RANK") is not null || EnvInt("PMIX_RANK") is not null ? -1 : null);

    static TimeSpan? EnvironmentTimeout()
    {
        var s = Environment.GetEnvironmentVariable("FUNCTIONALAD_COLLECTIVE_TIMEOUT");
        if (string.IsNullOrEmpty(s)) return null;
        if (!double.TryParse(s, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var seconds) || seconds <= 0)
            throw new DistributedException($"World.Init: FUNCTIONALAD_COLLECTIVE_TIMEOUT must be a positive number of seconds, got '{s}'");
        return TimeSpan.FromSeconds(seconds);
    }

    static World Start(int launcherSize, TimeSpan? timeout)
    {
        var mpi = Mpi.Load();
        int flag = 0;
        mpi.Check(mpi.Initialized(&flag), "MPI_Initialized");
        if (flag == 0)
        {
            int provided = 0;
            mpi.Check(mpi.Init_thread(0, 0, Mpi.ThreadSerialized, &provided), "MPI_Init_thread");
            if (provided < Mpi.ThreadSerialized)
                throw new DistributedException($"World.Init: {mpi.LibraryPath} provides thread level {provided}; MPI_THREAD_SERIALIZED (2) is needed");
        }
        mpi.Check(mpi.Comm_set_errhandler(Mpi.CommWorld, Mpi.ErrorsReturn), "MPI_Comm_set_errhandler");
        int rank = 0, size = 0;
        mpi.Check(mpi.Comm_rank(Mpi.CommWorld, &rank), "MPI_Comm_rank");
        mpi.Check(mpi.Comm_size(Mpi.CommWorld, &size), "MPI_Comm_size");
        if (launcherSize > 0 && size != launcherSize)
            throw new DistributedException(
                $"World.Init: the launcher started {launcherSize} processes but MPI ({mpi.LibraryVersion()}) sees a world of {size}: " +
                "the program was probably started by another MPI's mpirun (e.g. Open MPI's /usr/bin/mpirun for an MPICH library), " +
                "which makes each process a world of its own. Launch with the matching launcher (mpirun.mpich / mpiexec.hydra)");
        int local = 0, localRank = 0, localSize = 1;
        mpi.Check(mpi.Comm_split_type(Mpi.CommWorld, Mpi.CommTypeShared, rank, Mpi.InfoNull, &local), "MPI_Comm_split_type");
        mpi.Check(mpi.Comm_rank(local, &localRank), "MPI_Comm_rank");
        mpi.Check(mpi.Comm_size(local, &localSize), "MPI_Comm_size");
        mpi.Check(mpi.Comm_free(&local), "MPI_Comm_free");
        var world = new World(mpi, rank, size, localRank, localSize, mpi.ProcessorName(), mpi.LibraryVersion(), timeout);
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
            world.Abort(1, $"unhandled exception: {e.ExceptionObject}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => world.Dispose();
        return world;
    }

    /// <summary>Ends the whole job now: prints "rank r of n (host): message" on stderr and calls MPI_Abort with
    /// <paramref name="exitCode"/>, which makes the launcher stop every rank and exit non-zero. In a world without
    /// MPI it prints the message and exits the process. Does not return.</summary>
    public void Abort(int exitCode, string message)
    {
        try
        {
            Console.Out.Flush();
            Console.Error.WriteLine($"FunctionalAD.Distributed: rank {Rank} of {Size} ({ProcessorName}): {message}");
            Console.Error.Flush();
        }
        catch (Exception) { } // the message is best effort; ending the job is not
        // MPI_Abort makes the launcher kill every process, its own forwarders of our stderr included: give them a
        // moment to pass the message on first
        if (mpi is not null) Thread.Sleep(200);
        // no lock: another thread may be inside a collective that will never complete
        if (mpi is not null && !finalized) mpi.Abort(Mpi.CommWorld, exitCode == 0 ? 1 : exitCode);
        Environment.Exit(exitCode == 0 ? 1 : exitCode);
    }

    /// <summary>Runs <paramref name="body"/> on this world and finalises MPI after it; an exception it throws ends
    /// the whole job through <see cref="Abort"/> (exit code 1, the exception on stderr) instead of leaving the other
    /// ranks waiting. Returns body's result.</summary>
    public T Run<T>(Func<World, T> body)
    {
        ArgumentNullException.ThrowIfNull(body);
        T result;
        try { result = body(this); }
        catch (Exception e) { Abort(1, $"failed: {e}"); throw; }
        Dispose();
        return result;
    }

    /// <summary>Finalises MPI (MPI_Finalize) once every rank gets here; collectives fail afterwards. Also called when
    /// the process exits normally. Does nothing in a world without MPI or when already finalised.</summary>
    public void Dispose()
    {
        lock (callLock)
        {
            if (mpi is null || finalized) return;
            finalized = true;
            int done = 0;
            mpi.Finalized(&done);
            if (done == 0) mpi.Finalize();
        }
    }

    void EnsureOpen(string op)
    {
        if (finalized) throw new DistributedException($"{op}: MPI was finalised (World.Dispose); no collective can run");
    }

    internal static int DataType<T>() where T : unmanaged =>
        typeof(T) == typeof(float) ? Mpi.Float : typeof(T) == typeof(double) ? Mpi.Double
        : typeof(T) == typeof(int) ? Mpi.Int32 : typeof(T) == typeof(long) ? Mpi.Int64
        : throw new DistributedException($"allReduce: elements of type {typeof(T).Name} are not supported (float, double, int, long are)");

    /// <summary>Starts MPI_Iallreduce in place on <paramref name="count"/> elements at <paramref name="buffer"/>
    /// (pinned by the caller until the request completes); returns the request.</summary>
    internal int StartAllReduce(nint buffer, int count, int dataType, ReduceOp op)
    {
        int request = Mpi.RequestNull;
        lock (callLock)
        {
            EnsureOpen("allReduce");
            mpi!.Check(mpi.Iallreduce(Mpi.InPlace, buffer, count, dataType, op == ReduceOp.Max ? Mpi.OpMax : Mpi.OpSum, Mpi.CommWorld, &request), "MPI_Iallreduce");
        }
        return request;
    }

    /// <summary>Whether the request has completed (MPI_Test; also lets MPI progress other pending requests).</summary>
    internal bool Test(ref int request)
    {
        if (request == Mpi.RequestNull) return true;
        int flag = 0;
        lock (callLock)
            fixed (int* r = &request)
                mpi!.Check(mpi.Test(r, &flag, Mpi.StatusIgnore), "MPI_Test");
        return flag != 0;
    }

    /// <summary>Polls the request until it completes; past <see cref="Timeout"/> (counted from
    /// <paramref name="started"/>) aborts the job naming <paramref name="what"/>.</summary>
    internal void Wait(ref int request, string what, long started)
    {
        var timeout = Timeout;
        long deadline = timeout is { } t ? started + (long)(t.TotalSeconds * Stopwatch.Frequency) : long.MaxValue;
        int polls = 0;
        while (!Test(ref request))
        {
            if (Stopwatch.GetTimestamp() > deadline)
                Abort(3, $"{what} did not complete within {timeout!.Value.TotalSeconds:0.###} s: another rank has died, hangs, or " +
                         "stopped calling the same collectives in the same order. Aborting the job");
            // spin briefly for low latency, then give the core away (ranks may outnumber cores)
            polls++;
            if (polls < 1000) Thread.SpinWait(20);
            else if (polls < 5000) Thread.Yield();
            else Thread.Sleep(1);
        }
    }

    /// <summary>All-reduces <paramref name="data"/> in place across the ranks (MPI_Iallreduce with MPI_IN_PLACE,
    /// completed by polling). Every rank must pass the same number of elements of the same type, in the same order
    /// of collectives. <typeparamref name="T"/>: float, double, int or long.</summary>
    /// <exception cref="DistributedException">T is another type, Mean of integers, or MPI reports an error.</exception>
    public void AllReduce<T>(Span<T> data, ReduceOp op = ReduceOp.Sum) where T : unmanaged
    {
        int dataType = DataType<T>();
        if (op == ReduceOp.Mean && (typeof(T) == typeof(int) || typeof(T) == typeof(long)))
            throw new DistributedException($"allReduce: Mean needs floating-point values, got {typeof(T).Name}");
        if (mpi is not null && Size > 1)
        {
            long started = Stopwatch.GetTimestamp();
            fixed (T* p = data)
                for (long offset = 0; offset < data.Length; offset += int.MaxValue / 2)
                {
                    int count = (int)Math.Min(int.MaxValue / 2, data.Length - offset);
                    int request = StartAllReduce((nint)(p + offset), count, dataType, op);
                    Wait(ref request, "allReduce", started);
                }
        }
        if (op == ReduceOp.Mean && Size > 1) Scale(data, 1.0 / Size);
    }

    internal static void Scale<T>(Span<T> data, double factor) where T : unmanaged
    {
        if (typeof(T) == typeof(float))
            System.Numerics.Tensors.TensorPrimitives.Multiply(MemoryMarshal.Cast<T, float>(data), (float)factor, MemoryMarshal.Cast<T, float>(data));
        else if (typeof(T) == typeof(double))
            System.Numerics.Tensors.TensorPrimitives.Multiply(MemoryMarshal.Cast<T, double>(data), factor, MemoryMarshal.Cast<T, double>(data));
    }

    /// <summary>Overwrites <paramref name="data"/> on every rank with rank <paramref name="root"/>'s values
    /// (MPI_Ibcast, completed by polling).</summary>
    /// <exception cref="ArgumentOutOfRangeException">root is not a rank.</exception>
    public void Broadcast<T>(Span<T> data, int root = 0) where T : unmanaged
    {
        if ((uint)root >= (uint)Size) throw new ArgumentOutOfRangeException(nameof(root), $"broadcast: root {root} is not a rank of a world of {Size}");
        int dataType = DataType<T>();
        if (mpi is null || Size == 1) return;
        long started = Stopwatch.GetTimestamp();
        fixed (T* p = data)
            for (long offset = 0; offset < data.Length; offset += int.MaxValue / 2)
            {
                int count = (int)Math.Min(int.MaxValue / 2, data.Length - offset);
                int request = Mpi.RequestNull;
                lock (callLock)
                {
                    EnsureOpen("broadcast");
                    mpi.Check(mpi.Ibcast((nint)(p + offset), count, dataType, root, Mpi.CommWorld, &request), "MPI_Ibcast");
                }
                Wait(ref request, "broadcast", started);
            }
    }

    /// <summary>Returns once every rank has called it (MPI_Ibarrier, completed by polling).</summary>
    public void Barrier()
    {
        if (mpi is null || Size == 1) return;
        long started = Stopwatch.GetTimestamp();
        int request = Mpi.RequestNull;
        lock (callLock)
        {
            EnsureOpen("barrier");
            mpi.Check(mpi.Ibarrier(Mpi.CommWorld, &request), "MPI_Ibarrier");
        }
        Wait(ref request, "barrier", started);
    }

    /// <summary>A number all-reduced across the ranks (a loss, a count).</summary>
    public double AllReduce(double value, ReduceOp op = ReduceOp.Sum)
    {
        Span<double> v = [value];
        AllReduce(v, op);
        return v[0];
    }

    /// <summary>The tensor all-reduced elementwise across the ranks (see <see cref="AllReduce(IReadOnlyList{Tensor}, ReduceOp)"/>).</summary>
    public Tensor AllReduce(Tensor tensor, ReduceOp op = ReduceOp.Sum) => AllReduce([tensor], op)[0];

    /// <summary>
    /// The tensors all-reduced elementwise across the ranks, in one collective per dtype: the tensors of each dtype
    /// are flattened into one buffer (in list order), reduced in place, and cut back into tensors of the original
    /// shapes, on the original devices. Every rank must pass tensors of the same dtypes and shapes in the same order.
    /// The results carry no derivative. In a world of one process the results equal the inputs.
    /// </summary>
    /// <exception cref="DTypeMismatchException">a tensor is Bool, or Mean of an integer tensor.</exception>
    public Tensor[] AllReduce(IReadOnlyList<Tensor> tensors, ReduceOp op = ReduceOp.Sum)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        Flat.Validate("allReduce", tensors, op == ReduceOp.Mean);
        return Flat.PerDType(tensors, new AllReduceAction(this, op));
    }

    /// <summary>
    /// Rank <paramref name="root"/>'s tensors on every rank (one broadcast per dtype of the flattened tensors), to
    /// start every rank from the same parameters. Every rank must pass tensors of the same dtypes and shapes.
    /// </summary>
    /// <exception cref="DTypeMismatchException">a tensor is Bool.</exception>
    /// <exception cref="ArgumentOutOfRangeException">root is not a rank.</exception>
    public Tensor[] Broadcast(IReadOnlyList<Tensor> tensors, int root = 0)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        if ((uint)root >= (uint)Size) throw new ArgumentOutOfRangeException(nameof(root), $"broadcast: root {root} is not a rank of a world of {Size}");
        Flat.Validate("broadcast", tensors, false);
        return Flat.PerDType(tensors, new BroadcastAction(this, root));
    }

    readonly struct AllReduceAction(World world, ReduceOp op) : Flat.IBufferAction
    {
        public void Run<T>(Span<T> buffer) where T : unmanaged => world.AllReduce(buffer, op);
    }

    readonly struct BroadcastAction(World world, int root) : Flat.IBufferAction
    {
        public void Run<T>(Span<T> buffer) where T : unmanaged => world.Broadcast(buffer, root);
    }

    /// <summary>"rank r of n on host (library)".</summary>
    public override string ToString() => $"rank {Rank} of {Size} on {ProcessorName} ({Library})";
}
