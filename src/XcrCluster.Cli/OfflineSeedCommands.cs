using System.CommandLine;

namespace XcrCluster.Cli;

/// <summary>`xcr seed export|import`: the offline seed, for links too slow for a first full. Each prints the VM's outcome
/// and the record `xcr run show` displays (exit codes as <see cref="RecoveryCommands.PrintAsync"/>).</summary>
public static class OfflineSeedCommands
{
    public static IEnumerable<Command> Build(CliContext cli)
    {
        var vm = new Argument<string>("vm-uuid") { Description = "the source VM (a VM of the job)" };
        var dir = new Argument<string>("DIR") { Description = "the seed directory written by xcr seed export" };
        var job = new Option<string>("--job") { Description = "the replication job the seed is for", Required = true, HelpName = "id" };
        var exportSchedule = new Option<string?>("--schedule")
        {
            Description = "the job's schedule (default: its first)", HelpName = "id",
        };
        var importSchedule = new Option<string>("--schedule")
        {
            Description = "the job's schedule the seed starts (the one given to the export)", Required = true, HelpName = "id",
        };
        var to = new Option<string>("--to")
        {
            Description = "absolute path of a directory ON THE NODE SERVING THE SOURCE POOL (empty, or an interrupted export's to resume)",
            Required = true, HelpName = "DIR",
        };
        var sr = new Option<string>("--sr")
        {
            Description = "the target SR of the job to make the replica on", Required = true, HelpName = "uuid",
        };
        var export = cli.Api("export",
            "take a job snapshot of the VM and write its disks as VHD files and a manifest (SHA-256) into a directory on the node "
                + "serving the source pool; run again with the same directory to resume. Carry the directory to the node serving the "
                + "target pool and import it before the job runs again (a run in between is a full and removes the seed's snapshot).",
            async (r, client) => await RecoveryCommands.PrintAsync(cli, r, await client.PostLongAsync("/api/seed/export",
                new { vm = r.GetValue(vm), job = r.GetValue(job), schedule = r.GetValue(exportSchedule), dir = r.GetValue(to) },
                RecoveryCommands.Wait)),
            vm, job, exportSchedule, to);
        var import = cli.Api("import",
            "verify the files of a seed directory ON THE NODE SERVING THE TARGET POOL, then make the halted, protected replica "
                + "on the SR with a restore point matching the exported snapshot: the job's first run is a delta",
            async (r, client) => await RecoveryCommands.PrintAsync(cli, r, await client.PostLongAsync("/api/seed/import",
                new { dir = r.GetValue(dir), sr = r.GetValue(sr), job = r.GetValue(job), schedule = r.GetValue(importSchedule) },
                RecoveryCommands.Wait)),
            dir, sr, job, importSchedule);
        return [export, import];
    }
}
