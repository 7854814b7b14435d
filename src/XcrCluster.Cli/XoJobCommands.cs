using System.CommandLine;
using XcrCluster.Domain.Control;

namespace XcrCluster.Cli;

/// <summary>Adopting a Xen Orchestra job: `xcr job create --xo-job ID --xo-schedule ID` keeps its ids, `xcr job import FILE` reads
/// its JSON; either way the first run finds the snapshots and replicas Xen Orchestra made under those ids and is a delta.</summary>
public static class XoJobCommands
{
    /// <summary>`xcr job create`'s --xo-job and --xo-schedule.</summary>
    public static (Option<string?> Job, Option<string?> Schedule) IdOptions() => (
        new("--xo-job") { Description = "keep this job id (a Xen Orchestra job's: the first run continues its chains as a delta)" },
        new("--xo-schedule") { Description = "the first schedule's id (the Xen Orchestra schedule whose restore points it continues)" });

    /// <summary>`xcr job import FILE --pool POOL`: the job (VMs or smart pattern, SR targets, schedules, retention, settings)
    /// defined with Xen Orchestra's ids; what is not carried over is printed as warnings, what would behave differently
    /// refused.</summary>
    public static Command Import(CliContext cli)
    {
        var file = new Argument<string>("file.json") { Description = $"Xen Orchestra's job JSON: {XoJobImport.Shapes}" };
        var pool = new Option<string>("--pool") { Description = "the source pool (the pool of the job's VMs)", Required = true };
        var targetPool = new Option<string?>("--target-pool") { Description =
            "the pool of the target SRs not named by --sr-pool (default: found on the registered pools)" };
        var srPools = new Option<string[]>("--sr-pool") { Description = "SR-UUID=POOL: a target SR's pool (repeat for more)",
            AllowMultipleArgumentsPerToken = true };
        var job = new Option<string?>("--xo-job") { Description = "which job of a file holding several (a config export)" };
        return cli.Api("import", "define a job from Xen Orchestra's job JSON, keeping its job and schedule ids", async (r, client) =>
        {
            var path = r.GetValue(file)!;
            string text;
            try
            {
                text = await File.ReadAllTextAsync(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"{path}: {e.Message}");
            }

            var body = new
            {
                sourcePool = r.GetValue(pool), xo = text, xoJob = r.GetValue(job), targetPool = r.GetValue(targetPool),
                srPools = (r.GetValue(srPools) ?? []).Select(p => p.Split('=', 2) is [{ Length: > 0 } sr, { Length: > 0 } name]
                    ? (sr, name)
                    : throw new CliException($"--sr-pool {p}: expected SR-UUID=POOL")).ToDictionary(p => p.sr, p => p.name),
            };
            return await cli.Print(r, await client.PostAsync("/api/jobs/import", body), d =>
                [$"job {d["id"]}", .. d["schedules"]!.AsArray().Select(s => $"schedule {s}"),
                    .. d["warnings"]!.AsArray().Select(w => $"warning: {w}")]);
        }, file, pool, targetPool, srPools, job);
    }
}
