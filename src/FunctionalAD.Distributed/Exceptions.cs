namespace FunctionalAD;

/// <summary>A distributed run cannot go on: MPI is missing or of an unsupported kind, the world is not the one the
/// launcher started, a collective failed, or the ranks disagree (different models, a rank that stopped calling
/// collectives). The message names the rank and what was expected.</summary>
public class DistributedException : Exception
{
    /// <summary>An exception with the given message.</summary>
    public DistributedException(string message) : base(message) { }
}
