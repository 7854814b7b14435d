namespace XcrCluster.Bench;

public sealed record BenchArgs(long SizeBytes, int Runs, string Dir)
{
    /// <summary>`control`: the job's VMs (--vms) and the cluster sizes measured (--nodes 1,3).</summary>
    public int Vms { get; init; } = 1000;

    public IReadOnlyList<int> Nodes { get; init; } = [1, 3];

    /// <summary>`control`: the job's concurrency setting (--concurrency; 0 = unlimited), null = the job's default.</summary>
    public int? Concurrency { get; init; }

    /// <summary>`rpo`: how long the lag is measured (--minutes).</summary>
    public double Minutes { get; init; } = 10;

    /// <summary>Whether --size-mib was given (cases whose default size is not 1 GiB use theirs otherwise).</summary>
    public bool SizeGiven { get; init; }

    /// <summary>The --size-mib given, else the case's own default.</summary>
    public long SizeOr(long defaultBytes) => SizeGiven ? SizeBytes : defaultBytes;

    public static BenchArgs Parse(string[] args)
    {
        long? sizeMib = null;
        var runs = 3;
        string? dir = null;
        var vms = 1000;
        IReadOnlyList<int> nodes = [1, 3];
        int? concurrency = null;
        var minutes = 10d;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--size-mib": sizeMib = long.Parse(Value()); break;
                case "--runs": runs = int.Parse(Value()); break;
                case "--dir": dir = Value(); break;
                case "--vms": vms = int.Parse(Value()); break;
                case "--nodes": nodes = [.. Value().Split(',').Select(int.Parse)]; break;
                case "--concurrency": concurrency = int.Parse(Value()); break;
                case "--minutes": minutes = double.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        if (sizeMib < 4 || runs < 1 || vms < 1 || nodes.Any(n => n is not (1 or 3)))
        {
            throw new ArgumentException("--size-mib must be at least 4, --runs and --vms at least 1, --nodes 1, 3 or 1,3");
        }

        dir ??= Path.Combine(Path.GetTempPath(), "xcr-bench-" + Guid.NewGuid().ToString("N")[..8]);
        return new BenchArgs((sizeMib ?? 1024) << 20, runs, dir)
        {
            SizeGiven = sizeMib is not null, Vms = vms, Nodes = nodes, Concurrency = concurrency, Minutes = minutes,
        };
    }
}
