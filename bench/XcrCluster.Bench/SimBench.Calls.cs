using System.Diagnostics;
using XcrCluster.Xapi;
using XcrCluster.Xapi.Records;
using XcrCluster.XapiSim;
using XcrCluster.XapiSim.Model;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.Bench;

/// <summary>The storage calls a replication run makes, one at a time (no lock waits), at each pool size: they should cost
/// what they change, not the pool's size. And one pass of the SR garbage collector, which holds the database lock (every
/// call waits for it) once a second, over a pool where every VM's first disk has a snapshot (a base copy with two children
/// each, which it keeps).</summary>
public static partial class SimBench
{
    private static async Task<CallCosts> MeasureCallsAsync(XapiClient client, SimPool pool, VmRecord vm, int runs)
    {
        string disk;
        lock (pool.Db.Sync)
        {
            disk = pool.Db.Where(Schemas.Vbd, "VM", vm.Ref).First(b => b.Str("type") == "Disk").Str("VDI");
        }

        var clone = await BestAsync(runs, () => TimedAsync(() => client.CallAsync("VDI.clone", disk)));
        var destroy = await BestAsync(runs, async () =>
        {
            var made = (string)(await client.CallAsync("VDI.clone", disk))!;
            return await TimedAsync(() => client.CallAsync("VDI.destroy", made));
        });
        var snapshot = await BestAsync(runs, () => TimedAsync(() => client.CallAsync("VM.snapshot", vm.Ref, "bench")));
        var otherConfig = await BestAsync(Math.Max(runs, 20), () => TimedAsync(() => client.CallAsync("VM.get_other_config", vm.Ref)));

        lock (pool.Db.Sync)
        {
            foreach (var row in pool.Db.All(Schemas.Vm).Where(v => !v.Bool("is_a_snapshot") && !v.Bool("is_control_domain")).ToList())
            {
                var first = pool.Db.Where(Schemas.Vbd, "VM", row.Ref).FirstOrDefault(b => b.Str("type") == "Disk");
                if (first is not null)
                {
                    Vdis.Snapshot(pool, pool.Db.Get(Schemas.Vdi, first.Str("VDI")), isSnapshot: true);
                }
            }
        }

        var collector = Best(runs, () =>
        {
            var clock = Stopwatch.StartNew();
            var work = pool.Collector.RunOnce();
            return (clock.Elapsed, (long)work);
        });
        return new CallCosts(clone.Best, destroy.Best, snapshot.Best, otherConfig.Best, collector.Best);
    }

    private static async Task<(TimeSpan Time, long Count)> TimedAsync(Func<Task<object?>> call)
    {
        var clock = Stopwatch.StartNew();
        await call();
        return (clock.Elapsed, 1);
    }

    private static void PrintCalls(List<Result> results)
    {
        static string Ms(TimeSpan t) => t.TotalMilliseconds.ToString("F2", System.Globalization.CultureInfo.InvariantCulture);
        Console.WriteLine();
        Console.WriteLine("Storage calls one at a time (best of the runs, ms) and one garbage collector pass over a pool where every VM's "
            + "first disk has a snapshot (ms; it holds the database lock once a second):");
        Console.WriteLine();
        Console.WriteLine("| VMs | VDIs | VDI.clone | VDI.destroy | VM.snapshot | VM.get_other_config | collector pass |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in results)
        {
            var c = r.Calls;
            Console.WriteLine($"| {r.Vms} | {r.AllVdis.Count} | {Ms(c.VdiClone)} | {Ms(c.Destroy)} | {Ms(c.Snapshot)} "
                + $"| {Ms(c.OtherConfig)} | {Ms(c.Collector)} |");
        }
    }

    private sealed record CallCosts(TimeSpan VdiClone, TimeSpan Destroy, TimeSpan Snapshot, TimeSpan OtherConfig, TimeSpan Collector);
}
