using System.Text.Json.Nodes;
using XcrCluster.Testing;

namespace XcrCluster.Cli.Tests;

/// <summary>`--rpo` acts (issue 18): a job given one is run by the scheduler without a cron nor a hand, `xcr job show` and
/// `/api/rpo` show the target, a smart selection's VMs are listed with their names, and a target under 10 s is refused.</summary>
public sealed class RpoCommandTests : RecoveryTest
{
    [Fact]
    public async Task A_job_given_an_rpo_runs_by_itself_and_every_vm_of_every_job_is_listed_with_its_target()
    {
        var (jobId, vm, sr) = await JobAsync();
        Assert.Contains("rpo: at least 10 s (got 5 s)", (await XcrAsync("", "job", "set", jobId, "--rpo", "5s")).Stderr);
        await OkAsync("job", "set", jobId, "--rpo", "10s");
        var schedule = (await OkAsync("job", "schedule", "add", jobId, "--rpo", "1h", "--disabled")).Trim()["schedule ".Length..];
        await OkAsync("job", "schedule", "set", jobId, schedule, "--rpo", "2h");
        var show = JsonNode.Parse(await OkAsync("job", "show", jobId))!;
        Assert.Equal("00:00:10", show["rpo"]!.GetValue<string>());
        Assert.Equal("02:00:00", show["schedules"]![1]!["rpo"]!.GetValue<string>());
        var created = await OkAsync("job", "create", "halted", "--pool", "alpha", "--smart", "pool=alpha,power=Halted",
            "--sr", $"beta:{sr}", "--cron", "0 3 * * *", "--rpo", "1h", "--disabled");
        var smartJob = created.Split('\n')[0]["job ".Length..].Trim();
        Assert.Equal("01:00:00", JsonNode.Parse(await OkAsync("job", "show", smartJob))!["rpo"]!.GetValue<string>());

        // Never run by hand and without a cron: only the RPO target can have made this restore point.
        using var http = Http();
        JsonArray rows = [];
        await Poll.UntilAsync(async () => (rows = JsonNode.Parse(await http.GetStringAsync("/api/rpo"))!.AsArray())
            .Any(r => r!["vm"]!.GetValue<string>() == vm && r["newestPoint"] is not null), "a restore point made for the RPO target");
        var tiny = rows.Single(r => r!["vm"]!.GetValue<string>() == vm)!;
        Assert.Equal(("tiny01", 10d, "rpo", show["scheduleId"]!.GetValue<string>()), (tiny["vmName"]!.GetValue<string>(),
            tiny["targetSeconds"]!.GetValue<double>(), tiny["targetFrom"]!.GetValue<string>(), tiny["scheduleId"]!.GetValue<string>()));
        Assert.InRange(tiny["lagSeconds"]!.GetValue<double>(), 0, 600);

        // The smart job's VM, never run, is listed by name; its only schedule is disabled: no target, never late.
        var db = rows.Single(r => r!["jobId"]!.GetValue<string>() == smartJob)!;
        Assert.Equal("db01", db["vmName"]!.GetValue<string>());
        Assert.All(new[] { "lagSeconds", "newestPoint", "targetSeconds", "targetFrom" }, field => Assert.Null(db[field]));
        Assert.False(db["violation"]!.GetValue<bool>());
        Assert.Contains($"tiny01 ({vm}) | hourly | lag ", await OkAsync("rpo"));
    }
}
