using Akka.Actor;
using Akka.Hosting;
using Microsoft.Data.Sqlite;
using XcrCluster.Domain.Control;

namespace XcrCluster.Actors.Tests;

/// <summary>The control plane's and the scheduler's journals stay short (snapshots, older events deleted) and a
/// restart recovers everything from the snapshot and the events after it.</summary>
public sealed class JournalBoundTests : IDisposable
{
    private const int Schedules = 120;

    private readonly string dataDir = Directory.CreateTempSubdirectory("xcr-bound-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(dataDir, recursive: true);
    }

    [Fact]
    public async Task After_many_firings_and_runs_the_journals_hold_few_events_and_a_restart_recovers_them_all()
    {
        // Every schedule missed one hourly occurrence half an hour ago and has none due for half an hour: each fires
        // exactly once (one scheduler event and one recorded run each), then all is quiet.
        var minute = (DateTimeOffset.UtcNow.Minute + 30) % 60;
        var job = SqliteControlNode.EverySecond("job-1", "alpha", Schedules);
        job = job with
        {
            Schedules = [.. job.Schedules.Select(s => s with { Cron = $"{minute} * * * *" })],
            Defined = DateTimeOffset.UtcNow.AddHours(-2),
        };

        SchedulerState fired;
        await using (var node = await SqliteControlNode.StartAsync(dataDir))
        {
            Assert.IsType<Done>(await node.AskAsync<IControlReply>(new RegisterPool(SqliteControlNode.Pool("alpha"))));
            Assert.IsType<Done>(await node.AskAsync<IControlReply>(new DefineJob(job)));
            using var all = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            for (var i = 0; i < Schedules; i++)
            {
                await node.Runs.Reader.ReadAsync(all.Token);
            }

            await Poll.UntilAsync(async () => (await node.AskAsync<Known>(new GetKnown())).Runs.Count == Schedules, "every run recorded",
                TimeSpan.FromSeconds(60));
            await Poll.UntilAsync(() => SqliteControlNode.JournalEvents(dataDir, "scheduler") < SchedulerActor.SnapshotEvery,
                "the scheduler's old events deleted", TimeSpan.FromSeconds(30));
            await Poll.UntilAsync(() => SqliteControlNode.JournalEvents(dataDir, "control-plane") < ControlPlaneActor.SnapshotEvery,
                "the control plane's old events deleted", TimeSpan.FromSeconds(30));
            fired = await SchedulerStateAsync(node);
            Assert.Equal(Schedules, fired.LastDue.Count);
        }

        await using (var node = await SqliteControlNode.StartAsync(dataDir))
        {
            var known = await node.AskAsync<Known>(new GetKnown());
            Assert.Equal(Schedules, known.Runs.Count);
            Assert.Equal(Schedules, (await node.AskAsync<JobReply>(new GetJob("job-1"))).Job!.Schedules.Count);
            Assert.Equal(fired.LastDue.OrderBy(p => p.Key), (await SchedulerStateAsync(node)).LastDue.OrderBy(p => p.Key));
        }
    }

    private static async Task<SchedulerState> SchedulerStateAsync(SqliteControlNode node)
    {
        var scheduler = await ActorRegistry.For(node.System).GetAsync<Scheduler>();
        return await scheduler.Ask<SchedulerState>(SchedulerActor.GetState.Instance, TimeSpan.FromSeconds(30));
    }
}
