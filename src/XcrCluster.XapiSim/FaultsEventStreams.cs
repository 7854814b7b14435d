namespace XcrCluster.XapiSim;

/// <summary>The sessions following events (event.from), and which of them lose their stream: a test kills every stream
/// at a chosen moment, as a master restart or an overflowed event queue would, without knowing which session is whose.</summary>
public sealed class EventStreams
{
    private readonly Lock sync = new();
    private readonly HashSet<string> followers = new(StringComparer.Ordinal);
    private readonly HashSet<string> doomed = new(StringComparer.Ordinal);
    private TaskCompletionSource killed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next <see cref="KillAll"/>: a held event.from wakes up to fail.</summary>
    public Task Killed
    {
        get
        {
            lock (sync)
            {
                return killed.Task;
            }
        }
    }

    /// <summary>Notes a session's event.from; true (once) when its stream was killed since.</summary>
    public bool Follow(string session)
    {
        lock (sync)
        {
            followers.Add(session);
            return doomed.Remove(session);
        }
    }

    /// <summary>Every session that has followed events fails its held event.from now, or else its next one.</summary>
    public void KillAll()
    {
        TaskCompletionSource fired;
        lock (sync)
        {
            doomed.UnionWith(followers);
            fired = killed;
            killed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        fired.TrySetResult();
    }

    public void Clear()
    {
        lock (sync)
        {
            doomed.Clear();
        }
    }
}
