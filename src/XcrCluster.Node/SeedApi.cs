using Akka.Hosting;
using XcrCluster.Actors;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Recovery;
using XcrCluster.Domain.Vm;
using XcrCluster.Xapi;
using static XcrCluster.Node.ControlApi;

namespace XcrCluster.Node;

/// <summary>
/// `xcr seed`: xo-cr-seed's arguments and meaning (spec xo-cr-semantics.md §10), run on the agents of the two pools. Both
/// sides are read first (the source snapshot on the source pool's agent, the target VM on the target pool's), checked
/// together here (<see cref="SeedCheck"/>), then written: the source, then the target; a target that fails puts the source
/// back. A refusal changes nothing and is not recorded; a seed that ran is kept as a record `xcr run show` displays.
/// </summary>
public static class SeedApi
{
    /// <summary>Source and target: a registered pool's name, or a URL (credentials percent-encoded, as xo-cr-seed takes them)
    /// of a registered pool.</summary>
    public sealed record SeedRequest(string? Source, string? Snapshot, string? Target, string? TargetVm, string? Job, string? Schedule);

    public static void Map(WebApplication app, ClusterKey key)
    {
        app.MapPost("/api/seed", async (SeedRequest request, ActorRegistry registry, CancellationToken ct) =>
        {
            if (Missing(request) is { } field)
            {
                return Results.BadRequest(new { error = $"{field}: required" });
            }

            if (await JobAsync(registry, request.Job!) is not { } job)
            {
                return Results.NotFound(new { error = $"no job {request.Job}" });
            }

            if (job.Schedule(request.Schedule!) is not { } schedule)
            {
                return Results.NotFound(new { error = $"job {job.Id} has no schedule {request.Schedule} (its schedules: "
                    + $"{string.Join(", ", job.Schedules.Select(s => s.Id))})" });
            }

            var pools = (await ControlAsync<PoolList>(registry, new GetPools())).Pools;
            var (source, sourceLogin, sourceError) = Resolve(pools, request.Source!, key);
            var (target, targetLogin, targetError) = Resolve(pools, request.Target!, key);
            if ((sourceError ?? targetError) is { } unknown)
            {
                return Results.Conflict(new { error = unknown });
            }

            var started = DateTimeOffset.UtcNow;
            var readSource = await Recoveries.StepAsync(registry, source!.Name, new ReadSeedSide(request.Snapshot!, request.Snapshot!), ct,
                sourceLogin);
            var readTarget = await Recoveries.StepAsync(registry, target!.Name, new ReadSeedSide(request.TargetVm!, request.TargetVm!), ct,
                targetLogin);
            // A read that failed changed nothing either: refused (no such object) is 409, a pool that failed (login, connection) 502.
            if (new[] { readSource, readTarget }.FirstOrDefault(r => r.Status != RunStatus.Success) is { } read)
            {
                return Recoveries.Refused(read) ? Recoveries.Refusal(read)
                    : Results.Json(new { error = $"{read.Vm}: {read.Error}" }, statusCode: StatusCodes.Status502BadGateway);
            }

            var (sourceView, targetView) = (SeedView.From(readSource)!, SeedView.From(readTarget)!);
            var (refusal, sr) = SeedCheck.Check(job, source.Name, target.Name, sourceView, targetView);
            if (refusal is not null)
            {
                return Results.Conflict(new { error = refusal });
            }

            var seed = new JobSeed(job.Id, job.Name, schedule.Id, schedule.Name, sourceView.SnapshotOfUuid!);
            var vm = seed.SourceVmUuid;
            var log = new List<LogLine>();
            var wroteSource = await Recoveries.StepAsync(registry, source.Name, new WriteSeedSource(vm, seed, sourceView), ct,
                sourceLogin);
            log.AddRange(Lines(source.Name, wroteSource));
            RecoveryVmOutcome? wroteTarget = null;
            RecoveryVmOutcome? undone = null;
            if (wroteSource.Status == RunStatus.Success)
            {
                wroteTarget = await Recoveries.StepAsync(registry, target.Name,
                    new WriteSeedTarget(vm, seed, sourceView, targetView, sr), ct, targetLogin);
                log.AddRange(Lines(target.Name, wroteTarget));
                if (wroteTarget.Status != RunStatus.Success && SeedPrior.From(wroteSource) is { } prior)
                {
                    undone = await Recoveries.StepAsync(registry, source.Name, new UndoSeedSource(vm, sourceView.Uuid, prior), ct,
                        sourceLogin);
                    log.AddRange(Lines(source.Name, undone));
                }
            }

            // A refusal is only "nothing changed" when what the source step wrote was put back.
            var last = wroteTarget ?? wroteSource;
            if (Recoveries.Refused(last) && undone?.Status != RunStatus.Failed)
            {
                return Recoveries.Refusal(last with { Log = log });
            }

            var error = undone?.Status == RunStatus.Failed
                ? $"{last.Error}; the source snapshot's metadata could not be put back: {undone.Error}" : last.Error;
            var outcome = new RecoveryVmOutcome(vm, last.Status, error, log)
            {
                ResultVmUuid = last.Status == RunStatus.Success ? last.ResultVmUuid : null, Details = last.Details,
            };
            return await Recoveries.RecordAsync(registry, new RecoveryRecord(Recoveries.NewId(started), RecoveryKind.Seed, job.Id, started,
                DateTimeOffset.UtcNow, [outcome]));
        });
    }

    private static string? Missing(SeedRequest r)
        => r.Source is null ? "source" : r.Snapshot is null ? "snapshot" : r.Target is null ? "target" : r.TargetVm is null ? "targetVm"
            : r.Job is null ? "job" : r.Schedule is null ? "schedule" : null;

    /// <summary>A step's lines named after the pool they ran on.</summary>
    private static IEnumerable<LogLine> Lines(string pool, RecoveryVmOutcome outcome)
        => outcome.Log.Select(l => l with { Name = $"{pool}: {l.Name}" });

    /// <summary>A registered pool by name, or the one at a URL's scheme, host and port; the URL's credentials, if any, as a login
    /// sealed with the cluster key (unsealed by the agent that logs in, never shown).</summary>
    internal static (PoolRegistration? Pool, PoolRegistration? Login, string? Error) Resolve(IReadOnlyList<PoolRegistration> pools,
        string given, ClusterKey key)
    {
        if (pools.FirstOrDefault(p => p.Name == given) is { } named)
        {
            return (named, null, null);
        }

        XapiEndpoint endpoint;
        try
        {
            endpoint = XapiEndpoint.Parse(given);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            return (null, null, $"{XapiEndpoint.Mask(given)} is neither a registered pool nor a pool URL");
        }

        var at = endpoint.Url.GetLeftPart(UriPartial.Authority);
        var pool = pools.FirstOrDefault(p => Uri.TryCreate(p.Url, UriKind.Absolute, out var url)
            && Uri.Compare(url, endpoint.Url, UriComponents.SchemeAndServer, UriFormat.Unescaped,
                StringComparison.OrdinalIgnoreCase) == 0);
        if (pool is null)
        {
            return (null, null, $"no registered pool at {at}: register the pool first (xcr pool add NAME {at})");
        }

        var login = endpoint.Credentials is { } c
            ? pool with { User = c.User, EncryptedPassword = key.Encrypt(c.Password.Reveal()) }
            : null;
        return (pool, login, null);
    }
}
