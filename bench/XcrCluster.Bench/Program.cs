using XcrCluster.Bench;

// xcr-bench <case> [options]: each case prints a markdown table of best-of-N times, MB/s and the ratio to a
// plain copy of the same bytes measured in the same run. bench/results.sh runs them all into bench/RESULTS.md.
var cases = new Dictionary<string, Func<BenchArgs, Task>>(StringComparer.Ordinal)
{
    ["vhd"] = VhdBench.RunAsync,
    ["xapi"] = XapiBench.RunAsync,
    ["fanout"] = FanOutBench.RunAsync,
    ["channel"] = ChannelBench.RunAsync,
    ["sim"] = SimBench.RunAsync,
    ["simio"] = SimIoBench.RunAsync,
    ["control"] = ControlBench.RunAsync,
    ["replication"] = ReplicationBench.RunAsync,
    ["delta"] = DeltaBench.RunAsync,
    ["rss"] = RssBench.RunAsync,
    ["rpo"] = RpoBench.RunAsync,
};

// entities: a driver and the node processes it starts (entity-node, hidden), with their own options.
var processCases = new Dictionary<string, Func<string[], Task<int>>>(StringComparer.Ordinal)
{
    ["entities"] = EntityBench.RunAsync,
    ["entity-node"] = EntityNode.RunAsync,
};
if (args.Length > 0 && processCases.TryGetValue(args[0], out var process))
{
    try
    {
        return await process(args[1..]);
    }
    catch (ArgumentException e)
    {
        Console.Error.WriteLine($"xcr-bench: {e.Message}");
        return 2;
    }
}

if (args.Length == 0 || !cases.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: xcr-bench ({string.Join('|', cases.Keys)}) [--size-mib 1024] [--runs 3] [--dir DIR]");
    Console.Error.WriteLine("       xcr-bench control [--vms 1000] [--nodes 1,3] [--concurrency N]");
    Console.Error.WriteLine("       xcr-bench rpo [--minutes 10] [--size-mib 4096]");
    Console.Error.WriteLine("       xcr-bench entities [--entities 10000] [--minutes-before-kill 2] [--minutes-after-kill 2] "
        + "[--idle-s 30] [--run-ms 200]");
    return 2;
}

try
{
    await run(BenchArgs.Parse(args[1..]));
    return 0;
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"xcr-bench: {e.Message}");
    return 2;
}
