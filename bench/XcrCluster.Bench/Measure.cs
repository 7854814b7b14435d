using System.Diagnostics;

namespace XcrCluster.Bench;

/// <summary>Best-of-N timings, printed as one markdown table whose ratios compare each case with the baseline
/// of the same medium measured in the same run.</summary>
public sealed class Measure(int runs)
{
    private readonly List<Row> rows = [];

    /// <summary>Runs once to warm up, then keeps the fastest of the runs; returns the bytes it reported.</summary>
    public async Task AddAsync(string name, string medium, bool baseline, Func<Task<long>> action)
    {
        await action();
        var best = TimeSpan.MaxValue;
        var bestCpu = TimeSpan.MaxValue;
        long bytes = 0;
        for (var i = 0; i < runs; i++)
        {
            GC.Collect();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            bytes = await action();
            best = clock.Elapsed < best ? clock.Elapsed : best;
            cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu; // both ends of a transfer, all threads
            bestCpu = cpu < bestCpu ? cpu : bestCpu;
        }

        rows.Add(new Row(name, medium, baseline, bytes, best, bestCpu));
        Console.Error.WriteLine(
            $"  {name} ({medium}): {bytes / best.TotalSeconds / 1e6:F0} MB/s, {bytes / bestCpu.TotalSeconds / 1e6:F0} MB per CPU s");
    }

    /// <summary>The best MB/s measured for a case, for goal lines.</summary>
    public double MBps(string name) => rows.First(r => r.Name == name) is var r ? r.Bytes / r.Best.TotalSeconds / 1e6 : 0;

    public void Print(TextWriter output)
    {
        output.WriteLine("| case | medium | bytes | best s | MB/s | vs plain copy | best CPU s | MB per CPU s |");
        output.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var row in rows)
        {
            var plain = rows.First(r => r.Baseline && r.Medium == row.Medium);
            var ratio = (row.Bytes / row.Best.TotalSeconds) / (plain.Bytes / plain.Best.TotalSeconds);
            output.WriteLine($"| {row.Name} | {row.Medium} | {row.Bytes} | {row.Best.TotalSeconds:F3} | "
                + $"{row.Bytes / row.Best.TotalSeconds / 1e6:F0} | {ratio:F2} | "
                + $"{row.BestCpu.TotalSeconds:F3} | {row.Bytes / row.BestCpu.TotalSeconds / 1e6:F0} |");
        }
    }

    /// <summary>A case's best wall-clock time and, separately, its least CPU time (process-wide: on a shared
    /// machine the CPU a case burns per byte moves far less than its wall-clock time).</summary>
    private sealed record Row(string Name, string Medium, bool Baseline, long Bytes, TimeSpan Best, TimeSpan BestCpu);
}

/// <summary>A sink that counts and drops what it is given, so copies measure the source side alone.</summary>
public sealed class CountingSink : Stream
{
    public long Count { get; private set; }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => Count;

    public override long Position { get => Count; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Count += count;

    public override void Write(ReadOnlySpan<byte> buffer) => Count += buffer.Length;

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
    {
        Count += buffer.Length;
        return ValueTask.CompletedTask;
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
