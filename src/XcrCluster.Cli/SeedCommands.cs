using System.CommandLine;

namespace XcrCluster.Cli;

/// <summary>`xcr seed SOURCE SNAPSHOT TARGET TARGET-VM JOB SCHEDULE`: xo-cr-seed's arguments in its order, each pool given by
/// the name it is registered under or by its URL (credentials percent-encoded, as xo-cr-seed takes them; used for this
/// command's login only).</summary>
public static class SeedCommands
{
    public static Command Build(CliContext cli)
    {
        var source = new Argument<string>("source") { Description = "the source pool: its registered name or XAPI URL" };
        var snapshot = new Argument<string>("snapshot-uuid") { Description = "the snapshot of the source VM that was exported" };
        var target = new Argument<string>("target") { Description = "the target pool: its registered name or XAPI URL" };
        var targetVm = new Argument<string>("target-vm-uuid")
        {
            Description = "the VM imported from that snapshot on a target SR of the job",
        };
        var job = new Argument<string>("job-id");
        var schedule = new Argument<string>("schedule-id");
        var seed = cli.Api("seed", "link an imported copy of a source snapshot to a job as its replica: the job's first run is a delta",
            async (r, client) =>
            {
                var body = new
                {
                    source = r.GetValue(source), snapshot = r.GetValue(snapshot), target = r.GetValue(target),
                    targetVm = r.GetValue(targetVm),
                    job = r.GetValue(job), schedule = r.GetValue(schedule),
                };
                return await RecoveryCommands.PrintAsync(cli, r, await client.PostLongAsync("/api/seed", body, RecoveryCommands.Wait));
            }, source, snapshot, target, targetVm, job, schedule);

        // `xcr seed export|import`: the offline seed, for links too slow for a first full.
        foreach (var offline in OfflineSeedCommands.Build(cli))
        {
            seed.Subcommands.Add(offline);
        }

        return seed;
    }
}
