using System.Diagnostics;
using System.Collections.Concurrent;
using XcrCluster.XapiSim.Model;
using XcrCluster.XapiSim.Rpc;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.XapiSim;

/// <summary>
/// A simulated pool: its database (persisted in DATA by <see cref="StateStore"/>: the rows each call changed are
/// appended to a log, compacted into a snapshot now and then; tasks are not kept), one
/// storage directory per SR, the message table, sessions, faults and wire statistics.
/// </summary>
public sealed class SimPool : IDisposable
{
    private readonly ConcurrentDictionary<string, SrStorage> storages = new(StringComparer.Ordinal);
    private readonly Collector collector;

    public SimPool(SimOptions options)
    {
        Options = options;
        Version = XapiVersion.Parse(options.XapiVersion);
        Directory.CreateDirectory(options.DataDir);
        Methods = new MethodTable();
        Tasks.Register(Methods);
        Events.Register(Methods);
        Messages.Register(Methods, Version);
        Dispatcher = new Dispatcher(this);
        Store = new StateStore(options.DataDir, row => row.Schema != Schemas.Task);
        lock (Db.Sync)
        {
            if (Store.Exists)
            {
                Store.Load(Db);
                ShowVersionLocked();
                Store.Save(Db);
            }
            else
            {
                (options.Fixture ?? Fixture.Load(options.FixturePath)).Build(this);
                ShowVersionLocked();
                Store.Compact(Db);
            }
        }

        collector = new Collector(this, options.CollectorInterval);
    }

    public SimOptions Options { get; }

    public XapiVersion Version { get; }

    public XapiDatabase Db { get; } = new();

    public MethodTable Methods { get; }

    public Dispatcher Dispatcher { get; }

    public Sessions Sessions { get; } = new();

    public Faults Faults { get; } = new();

    public TaskSignals TaskSignals { get; } = new();

    public Stats Stats { get; } = new();

    public Collector Collector => collector;

    /// <summary>Where the database is persisted (snapshot and log).</summary>
    public StateStore Store { get; }

    public XapiObject PoolRow => Db.All(Schemas.Pool).First();

    public XapiObject Master => Db.Get(Schemas.Host, PoolRow.Str("master"));

    /// <summary>Hosts in --listen order: the first is the master.</summary>
    public IReadOnlyList<XapiObject> Hosts => Db.All(Schemas.Host).OrderBy(h => h.MapValue("other_config", "sim:index") ?? "").ToList();

    public SrStorage StorageOf(XapiObject sr) => storages.GetOrAdd(sr.Uuid,
        uuid => new SrStorage(Path.Combine(Options.DataDir, "sr", uuid), isNull: sr.Str("type") == "null"));

    /// <summary>SHA-256 (hex) of a null SR VDI's content as last imported (see <see cref="NullContent"/>); ""
    /// when a resize since made it unknown. For benches and tests checking what crossed the wire.</summary>
    public string NullSrChecksum(string vdiUuid) => GuestWorkload.Checksum(this, vdiUuid);

    public SrStorage StorageOfVdi(XapiObject vdi) => StorageOf(Db.Get(Schemas.Sr, vdi.Str("SR")));

    /// <returns>How long it waited for the database lock (another call's): not the simulator's work for this caller.</returns>
    public TimeSpan SaveIfDirty()
    {
        var asked = Stopwatch.GetTimestamp();
        lock (Db.Sync)
        {
            var waited = Stopwatch.GetElapsedTime(asked);
            Store.Save(Db);
            return waited;
        }
    }

    /// <summary>Every host shows the xapi it runs as XAPI does (xapi_globs.ml `software_version`: "xapi" is
    /// MAJOR.MINOR) with the matching API version, also after a restart with another --xapi-version.</summary>
    private void ShowVersionLocked()
    {
        foreach (var host in Db.All(Schemas.Host))
        {
            var software = host.Map("software_version");
            software["xapi"] = Version.MajorMinor;
            software["product_version"] = Version.ProductVersion;
            host.Fields["API_version_major"] = 2L;
            host.Fields["API_version_minor"] = Version.ApiVersionMinor;
            Db.Touch(host);
        }
    }

    public void Dispose()
    {
        collector.Dispose();
        lock (Db.Sync)
        {
            Store.Dispose();
        }
    }
}
