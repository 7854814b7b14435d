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
};

if (args.Length == 0 || !cases.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: xcr-bench ({string.Join('|', cases.Keys)}) [--size-mib 1024] [--runs 3] [--dir DIR]");
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
