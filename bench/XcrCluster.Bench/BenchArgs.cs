namespace XcrCluster.Bench;

public sealed record BenchArgs(long SizeBytes, int Runs, string Dir)
{
    /// <summary>Whether --size-mib was given (cases whose default size is not 1 GiB use theirs otherwise).</summary>
    public bool SizeGiven { get; init; }

    /// <summary>The --size-mib given, else the case's own default.</summary>
    public long SizeOr(long defaultBytes) => SizeGiven ? SizeBytes : defaultBytes;

    public static BenchArgs Parse(string[] args)
    {
        long? sizeMib = null;
        var runs = 3;
        string? dir = null;
        for (var i = 0; i < args.Length; i++)
        {
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--size-mib": sizeMib = long.Parse(Value()); break;
                case "--runs": runs = int.Parse(Value()); break;
                case "--dir": dir = Value(); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        if (sizeMib < 4 || runs < 1)
        {
            throw new ArgumentException("--size-mib must be at least 4 and --runs at least 1");
        }

        dir ??= Path.Combine(Path.GetTempPath(), "xcr-bench-" + Guid.NewGuid().ToString("N")[..8]);
        return new BenchArgs((sizeMib ?? 1024) << 20, runs, dir)
        {
            SizeGiven = sizeMib is not null,
        };
    }
}
