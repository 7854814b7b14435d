using Microsoft.Extensions.Logging;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors;

/// <summary>One structured line per VM run's start and end, and one per failed attempt, under the same ids (run, job,
/// VM), for log collectors: the node logs this category at Information (its default level is Warning).</summary>
public static partial class RunLogging
{
    /// <summary>The category of these lines.</summary>
    public const string Category = "XcrCluster.Runs";

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, EventName = "RunStarted",
        Message = "run {RunId} of job {JobId} ({JobName}): VM {VmUuid} started, from pool {SourcePool} to {Targets}")]
    private static partial void Started(ILogger logger, string runId, string jobId, string jobName, string vmUuid, string sourcePool,
        string targets);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, EventName = "RunEnded",
        Message = "run {RunId} of job {JobId} ({JobName}): VM {VmUuid} ended {Outcome} after {DurationSeconds:F1} s, {Bytes} bytes sent")]
    private static partial void Ended(ILogger logger, string runId, string jobId, string jobName, string vmUuid, string outcome,
        double durationSeconds, long bytes);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, EventName = "RunFailed",
        Message = "run {RunId} of job {JobId} ({JobName}): VM {VmUuid} ended {Outcome} after {DurationSeconds:F1} s, {Bytes} bytes "
            + "sent: {Error}")]
    private static partial void Failed(ILogger logger, string runId, string jobId, string jobName, string vmUuid, string outcome,
        double durationSeconds, long bytes, string? error);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, EventName = "RunAttemptFailed",
        Message = "run {RunId} of job {JobId} ({JobName}): VM {VmUuid} attempt {Attempt} failed, tried again: {Error}")]
    private static partial void AttemptFailed(ILogger logger, string runId, string jobId, string jobName, string vmUuid, int attempt,
        string? error);

    public static void Started(this ILogger logger, ReplicateVm request)
        => Started(logger, request.RunId, request.Job.JobId, request.Job.JobName, request.VmUuid, request.SourcePool,
            string.Join(", ", request.Targets.Select(t => $"{t.Pool}/{t.SrUuid}")));

    /// <summary>The run's end: Information (RunEnded), or Warning with the error for a failure (RunFailed).</summary>
    public static void Ended(this ILogger logger, ReplicateVm request, RunResult result, TimeSpan duration)
    {
        var (job, outcome, bytes) = (request.Job, result.Status.Name(), RunMetrics.BytesOf(result));
        if (result.Status == RunStatus.Failed)
        {
            Failed(logger, request.RunId, job.JobId, job.JobName, request.VmUuid, outcome, duration.TotalSeconds, bytes, result.Error);
        }
        else
        {
            Ended(logger, request.RunId, job.JobId, job.JobName, request.VmUuid, outcome, duration.TotalSeconds, bytes);
        }
    }

    public static void AttemptFailed(this ILogger logger, ReplicateVm request, int attempt, string? error)
        => AttemptFailed(logger, request.RunId, request.Job.JobId, request.Job.JobName, request.VmUuid, attempt, error);
}
