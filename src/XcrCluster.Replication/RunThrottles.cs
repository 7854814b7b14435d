namespace XcrCluster.Replication;

/// <summary>
/// maxExportRate for a whole job run, as Xen Orchestra's one Throttle per run shared by every disk of every VM: the runs'
/// throttles on this node (the source pool's agent's, where every VM of a run exports: a job has one source pool), by run
/// id. The first VM of a run makes it, each VM holds a <see cref="Lease"/> while it runs, the last one to end releases it.
/// </summary>
public sealed class RunThrottles(TimeProvider? time = null)
{
    private readonly Dictionary<string, (Throttle Throttle, int Users)> runs = new(StringComparer.Ordinal);

    /// <summary>The runs holding a throttle now.</summary>
    public int Count
    {
        get
        {
            lock (runs)
            {
                return runs.Count;
            }
        }
    }

    /// <summary>The run's throttle for one VM's attempt (none when <paramref name="bytesPerSecond"/> is 0); dispose the lease when
    /// the attempt ends. Every VM of a run asks with the same rate (the job's settings); the first one's is kept.</summary>
    public Lease Take(string runId, long bytesPerSecond)
    {
        if (bytesPerSecond <= 0)
        {
            return new Lease(this, runId, null);
        }

        lock (runs)
        {
            var (throttle, users) = runs.TryGetValue(runId, out var held) ? held : (new Throttle(bytesPerSecond, time), 0);
            runs[runId] = (throttle, users + 1);
            return new Lease(this, runId, throttle);
        }
    }

    private void Release(string runId)
    {
        lock (runs)
        {
            if (runs.TryGetValue(runId, out var held))
            {
                if (held.Users <= 1)
                {
                    runs.Remove(runId);
                }
                else
                {
                    runs[runId] = (held.Throttle, held.Users - 1);
                }
            }
        }
    }

    /// <summary>One VM's hold on its run's throttle; disposed once.</summary>
    public sealed class Lease(RunThrottles owner, string runId, Throttle? throttle) : IDisposable
    {
        private int disposed;

        public Throttle? Throttle { get; } = throttle;

        public void Dispose()
        {
            if (Throttle is not null && Interlocked.Exchange(ref disposed, 1) == 0)
            {
                owner.Release(runId);
            }
        }
    }
}
