using System.Runtime.InteropServices;
using System.Text;

namespace FunctionalAD;

/// <summary>
/// The few MPI functions data parallelism needs, bound at run time from the MPI library the process was launched
/// with (no compile-time dependency: a single process never loads it). Handles follow the MPICH ABI (integers:
/// MPICH, Intel MPI, Cray MPICH, MVAPICH); Open MPI's ABI (handles are pointers to exported objects) is detected and
/// refused by name. Every call returns an MPI error code; <see cref="Check"/> turns a failure into an exception.
/// </summary>
internal sealed unsafe class Mpi
{
    // MPICH ABI constants (mpich/mpi.h)
    public const int CommWorld = 0x44000000;
    public const int Float = 0x4c00040a, Double = 0x4c00080b, Int32 = 0x4c000439, Int64 = 0x4c00083a;
    public const int OpMax = 0x58000001, OpSum = 0x58000003;
    public const int InfoNull = 0x1c000000;
    public const int ErrorsReturn = 0x54000001;
    public const int CommTypeShared = 1;
    public const int ThreadSerialized = 2;
    public const int RequestNull = 0x2c000000;
    public static readonly nint InPlace = -1;
    public static readonly nint StatusIgnore = 1;

    /// <summary>Library file names tried in order (the environment variable FUNCTIONALAD_MPI_LIBRARY goes first).</summary>
    public static readonly string[] Candidates = ["libmpich.so.12", "libmpi.so.12", "libmpi.so.40", "libmpi.so"];

    readonly nint lib;
    public readonly string LibraryPath;
    public readonly delegate* unmanaged<nint, nint, int, int*, int> Init_thread;
    public readonly delegate* unmanaged<int*, int> Initialized;
    public readonly delegate* unmanaged<int*, int> Finalized;
    public readonly delegate* unmanaged<int> Finalize;
    public readonly delegate* unmanaged<int, int, int> Abort;
    public readonly delegate* unmanaged<int, int*, int> Comm_rank;
    public readonly delegate* unmanaged<int, int*, int> Comm_size;
    public readonly delegate* unmanaged<int, int, int, int, int*, int> Comm_split_type;
    public readonly delegate* unmanaged<int*, int> Comm_free;
    public readonly delegate* unmanaged<int, int, int> Comm_set_errhandler;
    public readonly delegate* unmanaged<nint, nint, int, int, int, int, int*, int> Iallreduce;
    public readonly delegate* unmanaged<nint, int, int, int, int, int*, int> Ibcast;
    public readonly delegate* unmanaged<int, int*, int> Ibarrier;
    public readonly delegate* unmanaged<int*, int*, nint, int> Test;
    public readonly delegate* unmanaged<byte*, int*, int> Get_processor_name;
    public readonly delegate* unmanaged<byte*, int*, int> Get_library_version;
    public readonly delegate* unmanaged<int, byte*, int*, int> Error_string;

    Mpi(nint lib, string path)
    {
        this.lib = lib;
        LibraryPath = path;
        Init_thread = (delegate* unmanaged<nint, nint, int, int*, int>)Export("MPI_Init_thread");
        Initialized = (delegate* unmanaged<int*, int>)Export("MPI_Initialized");
        Finalized = (delegate* unmanaged<int*, int>)Export("MPI_Finalized");
        Finalize = (delegate* unmanaged<int>)Export("MPI_Finalize");
        Abort = (delegate* unmanaged<int, int, int>)Export("MPI_Abort");
        Comm_rank = (delegate* unmanaged<int, int*, int>)Export("MPI_Comm_rank");
        Comm_size = (delegate* unmanaged<int, int*, int>)Export("MPI_Comm_size");
        Comm_split_type = (delegate* unmanaged<int, int, int, int, int*, int>)Export("MPI_Comm_split_type");
        Comm_free = (delegate* unmanaged<int*, int>)Export("MPI_Comm_free");
        Comm_set_errhandler = (delegate* unmanaged<int, int, int>)Export("MPI_Comm_set_errhandler");
        Iallreduce = (delegate* unmanaged<nint, nint, int, int, int, int, int*, int>)Export("MPI_Iallreduce");
        Ibcast = (delegate* unmanaged<nint, int, int, int, int, int*, int>)Export("MPI_Ibcast");
        Ibarrier = (delegate* unmanaged<int, int*, int>)Export("MPI_Ibarrier");
        Test = (delegate* unmanaged<int*, int*, nint, int>)Export("MPI_Test");
        Get_processor_name = (delegate* unmanaged<byte*, int*, int>)Export("MPI_Get_processor_name");
        Get_library_version = (delegate* unmanaged<byte*, int*, int>)Export("MPI_Get_library_version");
        Error_string = (delegate* unmanaged<int, byte*, int*, int>)Export("MPI_Error_string");
    }

    nint Export(string name) =>
        NativeLibrary.TryGetExport(lib, name, out var f) ? f
            : throw new DistributedException($"the MPI library {LibraryPath} has no {name} (an MPI-3 library is needed: MPICH 3.0 or later)");

    /// <summary>Loads the first MPI library found. Throws DistributedException naming what was tried when none
    /// loads, or when the library is Open MPI (pointer handles, another ABI).</summary>
    public static Mpi Load()
    {
        var tried = new List<string>();
        var overridePath = Environment.GetEnvironmentVariable("FUNCTIONALAD_MPI_LIBRARY");
        var names = string.IsNullOrEmpty(overridePath) ? Candidates : [overridePath, .. Candidates];
        foreach (var name in names)
        {
            if (!NativeLibrary.TryLoad(name, out var lib)) { tried.Add(name); continue; }
            if (NativeLibrary.TryGetExport(lib, "ompi_mpi_comm_world", out _))
                throw new DistributedException(
                    $"{name} is Open MPI, whose handles are pointers (another ABI than MPICH's): FunctionalAD.Distributed supports " +
                    "MPICH-ABI libraries (MPICH, Intel MPI, MVAPICH, Cray MPICH). Install MPICH (Debian: apt-get install mpich libmpich12), " +
                    "launch with mpirun.mpich, or point FUNCTIONALAD_MPI_LIBRARY at an MPICH-ABI libmpi");
            return new Mpi(lib, name);
        }
        throw new DistributedException(
            $"the process was launched by mpirun but no MPI library could be loaded (tried {string.Join(", ", tried)}). " +
            "Install MPICH (Debian/Ubuntu: apt-get install mpich libmpich12) or set FUNCTIONALAD_MPI_LIBRARY to the library's path");
    }

    /// <summary>Throws DistributedException naming the call and MPI's own message when <paramref name="code"/> is not MPI_SUCCESS.</summary>
    public void Check(int code, string call)
    {
        if (code == 0) return;
        var buf = stackalloc byte[1024];
        int len = 0;
        string text = Error_string(code, buf, &len) == 0 ? Encoding.ASCII.GetString(buf, Math.Clamp(len, 0, 1024)) : $"error code {code}";
        throw new DistributedException($"{call} failed: {text}");
    }

    public string ProcessorName()
    {
        var buf = stackalloc byte[256]; // MPI_MAX_PROCESSOR_NAME is 128 in MPICH
        int len = 0;
        return Get_processor_name(buf, &len) == 0 ? Encoding.ASCII.GetString(buf, Math.Clamp(len, 0, 256)) : Environment.MachineName;
    }

    public string LibraryVersion()
    {
        var buf = new byte[8192]; // MPI_MAX_LIBRARY_VERSION_STRING
        int len = 0;
        fixed (byte* p = buf)
            if (Get_library_version(p, &len) != 0) return LibraryPath;
        var text = Encoding.ASCII.GetString(buf, 0, Math.Clamp(len, 0, buf.Length));
        int nl = text.IndexOf('\n');
        return System.Text.RegularExpressions.Regex.Replace((nl > 0 ? text[..nl] : text).Trim(), @"\s+", " ");
    }
}
