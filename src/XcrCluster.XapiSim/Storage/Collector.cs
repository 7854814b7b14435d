using XcrCluster.XapiSim.Model;

namespace XcrCluster.XapiSim.Storage;

/// <summary>
/// The SR garbage collector, as XCP-ng's: a hidden base copy that nothing uses is deleted; one with a single
/// child is coalesced with it, so chains stay shallow over thousands of snapshot/delete cycles. Until it runs,
/// the chain is observably "unhealthy" (an unmanaged VDI with exactly one child). Chains being exported are
/// left alone. Tests pause it to observe that state.
/// </summary>
public sealed class Collector : IDisposable
{
    private readonly SimPool pool;
    private readonly Timer? timer;
    private int running;

    public Collector(SimPool pool, TimeSpan interval)
    {
        this.pool = pool;
        Paused = interval <= TimeSpan.Zero;
        if (interval > TimeSpan.Zero)
        {
            timer = new Timer(_ => Tick(), null, interval, interval);
        }
    }

    public bool Paused { get; set; }

    /// <summary>One pass over every SR; returns how many base copies it removed or coalesced.</summary>
    public int RunOnce()
    {
        var work = 0;
        lock (pool.Db.Sync)
        {
            foreach (var baseCopy in pool.Db.All(Schemas.Vdi).Where(v => !v.Bool("managed")).ToList())
            {
                var storage = pool.StorageOfVdi(baseCopy);
                var children = Vdis.Children(pool, baseCopy.Uuid);
                if (storage.IsPinned(baseCopy.Str("location")) || children.Any(c => storage.IsPinned(c.Str("location"))))
                {
                    continue;
                }

                var sr = pool.Db.Get(Schemas.Sr, baseCopy.Str("SR"));
                if (children.Count == 0)
                {
                    pool.Db.Delete(baseCopy);
                    storage.Delete(baseCopy.Str("location"));
                    Vdis.RefreshUsage(pool, sr);
                }
                else if (children.Count == 1)
                {
                    var child = children[0];
                    storage.Coalesce(baseCopy.Str("location"), child.Str("location"));
                    var grandParent = baseCopy.MapValue("sm_config", Vdis.VhdParent);
                    if (grandParent is null)
                    {
                        child.Map("sm_config").Remove(Vdis.VhdParent);
                    }
                    else
                    {
                        child.Map("sm_config")[Vdis.VhdParent] = grandParent;
                    }

                    pool.Db.Touch(child);
                    pool.Db.Delete(baseCopy);
                    Vdis.RefreshUsage(pool, sr, child);
                }
                else
                {
                    continue;
                }

                work++;
            }
        }

        pool.SaveIfDirty();
        return work;
    }

    private void Tick()
    {
        if (Paused || Interlocked.Exchange(ref running, 1) == 1)
        {
            return;
        }

        try
        {
            RunOnce();
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"collector: {e.Message}");
        }
        finally
        {
            Interlocked.Exchange(ref running, 0);
        }
    }

    public void Dispose() => timer?.Dispose();
}
