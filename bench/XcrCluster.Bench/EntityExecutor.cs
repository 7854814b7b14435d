using System.Globalization;
using Akka.Streams;
using XcrCluster.Actors;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Bench;

/// <summary>The entity bench's run executor: each run "takes" <paramref name="duration"/> and succeeds with one restore point;
/// its start is appended to <paramref name="path"/> (VM, run, the trigger naming the due occurrence, start time in Unix ms),
/// one flushed line per run so that the driver reads them even after this node was killed.</summary>
public sealed class EntityExecutor(string path, TimeSpan duration) : IRunExecutor, IDisposable
{
    private readonly StreamWriter writer =
        new(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };

    public async Task<RunResult> ExecuteAsync(ReplicateVm request, IMaterializer materializer, CancellationToken ct,
        Action<RunProgress>? progress = null)
    {
        var started = DateTimeOffset.UtcNow;
        lock (writer)
        {
            writer.WriteLine(string.Join('\t', request.VmUuid, request.RunId, request.Job.ScheduleName,
                started.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)));
        }

        await Task.Delay(duration, ct);
        var target = request.Targets[0];
        return new RunResult(request.RunId, RunStatus.Success, null, false, "snap-" + request.RunId,
            [new TargetResult(target.SrUuid, true, null, "replica-" + request.VmUuid, "rp-" + request.RunId, 0)],
            [new LogLine("snapshot", "success", started, DateTimeOffset.UtcNow)]);
    }

    public Task CancelAllAsync(TimeSpan grace) => Task.CompletedTask;

    public void Dispose() => writer.Dispose();

    /// <summary>One line of the file: the due occurrence is parsed from the scheduler's trigger
    /// ("schedule yyyy-MM-dd HH:mm:ssZ").</summary>
    public sealed record Firing(string Vm, string RunId, DateTimeOffset? Due, DateTimeOffset Started)
    {
        /// <summary>The node that ran it (the driver's name for it).</summary>
        public string Node { get; init; } = "";

        public static Firing Parse(string line)
        {
            var f = line.Split('\t');
            var due = f[2].StartsWith("schedule ", StringComparison.Ordinal) && DateTimeOffset.TryParseExact(f[2][9..],
                "yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var d)
                ? d : (DateTimeOffset?)null;
            return new Firing(f[0], f[1], due, DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(f[3], CultureInfo.InvariantCulture)));
        }
    }
}
