using Akka.Actor;
using Akka.Streams;
using XcrCluster.Domain;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Mirror;
using XcrCluster.Xapi.Records;
using XcrCluster.XapiSim;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Replication.Tests;

/// <summary>A source pool and a target pool in-process, connected through the product's XAPI client.</summary>
public sealed class TwoPools : IAsyncDisposable
{
    public static readonly JobRef Job = new("0b5e3a4c-job", "nightly", "5c4d-schedule", "every 5 minutes");

    private TwoPools(SimHost sourceSim, SimHost targetSim, Pool source, Pool target, PoolMirror? sourceMirror, PoolMirror? targetMirror)
    {
        (SourceMirror, TargetMirror) = (sourceMirror, targetMirror);
        System = ActorSystem.Create("replication-test", "akka.loglevel = WARNING");
        Materializer = System.Materializer();
        SourceSim = sourceSim;
        TargetSim = targetSim;
        Source = source;
        Target = target;
    }

    private readonly List<Pool> extra = [];

    public SimHost SourceSim { get; }

    /// <summary>Runs the block streams (the engine takes a materializer, as an entity gives it its own).</summary>
    public ActorSystem System { get; }

    public IMaterializer Materializer { get; }

    public SimHost TargetSim { get; }

    public Pool Source { get; }

    public Pool Target { get; }

    /// <summary>The pools' live mirrors, which <see cref="Source"/> and <see cref="Target"/> read through (as a node's
    /// sessions do) unless the test asked for direct reads.</summary>
    public PoolMirror? SourceMirror { get; }

    public PoolMirror? TargetMirror { get; }

    public static async Task<TwoPools> StartAsync(Func<SimOptions, SimOptions>? sourceOptions = null,
        Func<SimOptions, SimOptions>? targetOptions = null, bool mirrors = true)
    {
        var sourceSim = await SimHost.StartAsync(sourceOptions);
        var targetSim = await SimHost.StartAsync(targetOptions);
        var (source, sourceMirror) = await OpenAsync(sourceSim, mirrors);
        var (target, targetMirror) = await OpenAsync(targetSim, mirrors);
        return new TwoPools(sourceSim, targetSim, source, target, sourceMirror, targetMirror);
    }

    private static async Task<(Pool, PoolMirror?)> OpenAsync(SimHost sim, bool mirror)
    {
        var endpoint = XapiEndpoint.Parse($"http://root:password@{sim.Url.Authority}");
        var live = mirror ? new PoolMirror(endpoint).Start() : null;
        return (new Pool(await XapiClient.ConnectAsync(endpoint)) { Mirror = live }, live);
    }

    public async Task<string> SrUuidAsync(Pool pool, string name) => (await pool.Client.GetAllRecordsAsync<SrRecord>()).Single(s => s.NameLabel == name).Uuid;

    public async Task<VmRecord> SourceVmAsync(string name) => (await Source.Client.GetAllRecordsAsync<VmRecord>()).Single(v => v.NameLabel == name && !v.IsASnapshot);

    public VmReplication Replication(ReplicationSettings settings, params TargetSpec[] targets) => new(Source, targets, Job, settings, Materializer);

    public async Task<TargetSpec> TargetAsync(string srName = "Local storage") => new(Target, await SrUuidAsync(Target, srName));

    /// <summary>SHA-256 of each disk of a VM (userdevice order), read on its pool.</summary>
    public static async Task<List<string>> ChecksumsAsync(SimHost sim, Pool pool, string vmUuid)
    {
        var vm = await pool.VmAsync(await pool.VmRefAsync(vmUuid));
        return [.. (await pool.DisksAsync(vm)).Select(d => GuestWorkload.Checksum(sim.Pool, d.Vdi.Uuid))];
    }

    /// <summary>The pools' SR garbage collectors are paused in tests; this is one pass of each, as between runs.</summary>
    public void CollectGarbage()
    {
        SourceSim.Pool.Collector.RunOnce();
        TargetSim.Pool.Collector.RunOnce();
    }

    /// <summary>Another connection to a pool with its own client options (e.g. a short stall timeout), closed with the pools.</summary>
    public async Task<Pool> ConnectAsync(SimHost sim, XapiClientOptions options)
    {
        var pool = new Pool(await XapiClient.ConnectAsync(XapiEndpoint.Parse($"http://root:password@{sim.Url.Authority}"), options));
        extra.Add(pool);
        return pool;
    }

    public long ImportedBytes => TargetSim.Pool.Stats.BytesImported("/import_raw_vdi");

    public long ExportRequests => SourceSim.Pool.Stats.Requests("/export_raw_vdi");

    public async ValueTask DisposeAsync()
    {
        foreach (var pool in extra)
        {
            await pool.Client.DisposeAsync();
        }

        await Source.Client.DisposeAsync();
        await Target.Client.DisposeAsync();
        foreach (var mirror in new[] { SourceMirror, TargetMirror }.OfType<PoolMirror>())
        {
            await mirror.DisposeAsync();
        }

        await SourceSim.DisposeAsync();
        await TargetSim.DisposeAsync();
        await System.Terminate();
    }
}
