namespace XcrCluster.Xapi.Tests;

/// <summary>The managed heap's growth over a baseline while a test runs: sampled every few milliseconds for
/// the peak, and after a full collection for what stays. Tests using it run alone (<see cref="Serial"/>).</summary>
public sealed class MemoryPeak : IDisposable
{
    private readonly long baseline = GC.GetTotalMemory(forceFullCollection: true);
    private readonly Timer sampler;
    private long peak;

    public MemoryPeak()
    {
        peak = baseline;
        sampler = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(5));
    }

    public long PeakGrowth
    {
        get
        {
            Sample();
            return Interlocked.Read(ref peak) - baseline;
        }
    }

    public long RetainedGrowth => GC.GetTotalMemory(forceFullCollection: true) - baseline;

    public void Dispose() => sampler.Dispose();

    private void Sample()
    {
        var now = GC.GetTotalMemory(forceFullCollection: false);
        long seen;
        while (now > (seen = Interlocked.Read(ref peak)) && Interlocked.CompareExchange(ref peak, now, seen) != seen)
        {
        }
    }
}

/// <summary>Tests that measure the process's memory run with no other test beside them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class Serial
{
    public const string Name = "serial";
}
