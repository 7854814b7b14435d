using Microsoft.Data.Sqlite;
using XcrCluster.Domain.Control;

namespace XcrCluster.Actors.Tests;

/// <summary>The control plane and the scheduler outlive a database that fails for a while: a pool registered while the
/// SQLite file is locked is answered once the lock goes, and a schedule due meanwhile fires again — no restart.</summary>
public sealed class JournalFailureTests : IDisposable
{
    private readonly string dataDir = Directory.CreateTempSubdirectory("xcr-journal-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(dataDir, recursive: true);
    }

    [Fact]
    public async Task A_locked_database_delays_a_registration_and_a_schedule_but_both_complete_when_it_is_released()
    {
        // Each write the journal fails is counted for /metrics (xcr_journal_write_failures_total), per persistent actor.
        long controlPlaneFailures = 0;
        using var metrics = new System.Diagnostics.Metrics.MeterListener();
        metrics.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Name == "xcr_journal_write_failures_total")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        metrics.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            if (tags.ToArray().Contains(new("actor", nameof(ControlPlaneActor))))
            {
                Interlocked.Add(ref controlPlaneFailures, value);
            }
        });
        metrics.Start();
        await using var node = await SqliteControlNode.StartAsync(dataDir);
        Assert.Equal(new Done("alpha"), await node.AskAsync<IControlReply>(new RegisterPool(SqliteControlNode.Pool("alpha"))));
        Assert.IsType<Done>(await node.AskAsync<IControlReply>(new DefineJob(SqliteControlNode.EverySecond("job-1", "alpha"))));
        using var first = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await node.Runs.Reader.ReadAsync(first.Token);

        // Not pooled: closing it must end its transaction and its lock.
        var locker = new SqliteConnection($"Data Source={SqliteControlNode.Database(dataDir)};Pooling=False");
        await locker.OpenAsync();
        using (var begin = locker.CreateCommand())
        {
            begin.CommandText = "BEGIN EXCLUSIVE";
            await begin.ExecuteNonQueryAsync();
        }

        // The scheduler's next firing cannot be written; then a registration cannot be either.
        await Poll.UntilAsync(() => node.Errors.Any(e => e.Contains("scheduler", StringComparison.Ordinal)),
            "the scheduler's journal failure", TimeSpan.FromSeconds(30));
        var registration = node.AskAsync<IControlReply>(new RegisterPool(SqliteControlNode.Pool("beta")), TimeSpan.FromSeconds(90));
        await Poll.UntilAsync(() => node.Errors.Any(e => e.Contains("control-plane", StringComparison.Ordinal)),
            "the control plane's journal failure", TimeSpan.FromSeconds(30));
        Assert.False(registration.IsCompleted);
        await Poll.UntilAsync(() => Interlocked.Read(ref controlPlaneFailures) > 0, "the control plane's failure counted");

        while (node.Runs.Reader.TryRead(out _))
        {
        }

        await locker.DisposeAsync(); // rolls the lock's transaction back
        try
        {
            Assert.Equal(new Done("beta"), await registration.WaitAsync(TimeSpan.FromSeconds(90)));
        }
        catch (Exception e)
        {
            throw new InvalidOperationException(string.Join("\n", node.Errors.TakeLast(20)), e);
        }

        var pools = await node.AskAsync<PoolList>(new GetPools());
        Assert.Equal(["alpha", "beta"], pools.Pools.Select(p => p.Name));
        using var again = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        Assert.Equal("job-1", (await node.Runs.Reader.ReadAsync(again.Token)).Job.JobId);
    }
}
