namespace XcrCluster.Replication;

/// <summary>A VM the run must not touch, with the reason; the run reports it as failed or skipped.</summary>
public sealed class RunRefusedException(string message, bool skipped = false) : Exception(message)
{
    public bool Skipped { get; } = skipped;
}
