using static Microsoft.Playwright.Assertions;

namespace XcrCluster.Web.Tests;

/// <summary>The dashboard in a real browser on a real node with simulated pools: a late VM listed first and in red, a job
/// run started from the page seen live (progress bars, then done), and a screenshot of each main page.</summary>
public sealed class DashboardTests : WebTest
{
    [Fact]
    public async Task A_VM_past_its_RPO_is_listed_first_and_marked_late()
    {
        // A schedule every 2 s (an RPO of twice that) whose runs crawl: no restore point lands, the VM is soon late. The other
        // job runs by hand only: nothing expected of it, never late.
        Web.Alpha.Pool.Faults.ExportBytesPerSecond = 1024;
        var (often, late) = await Web.DefineJobAsync("often", "db01", new { cron = "*/2 * * * * *" });
        var (_, fine) = await Web.DefineJobAsync("manual", "tiny01");
        await Poll.UntilAsync(async () => (await Web.Node.GetAsync("/api/rpo")).AsArray()
            .Any(r => r!["vm"]!.GetValue<string>() == late && r["violation"]!.GetValue<bool>()), "the VM to be late",
            TimeSpan.FromSeconds(60));

        await Web.LogInAsync();
        await Web.ShowAsync("overview");
        var rows = Web.Page.Locator("tr.rpo-row");
        await Expect(rows).ToHaveCountAsync(2);
        await Expect(rows.First).ToHaveAttributeAsync("data-vm", late);
        await Expect(rows.First).ToHaveClassAsync(new System.Text.RegularExpressions.Regex("\\blate\\b"));
        await Expect(rows.First).ToContainTextAsync("db01"); // the VM's name, not its uuid
        await Expect(rows.First).ToContainTextAsync("LATE");
        await Expect(Web.Page.Locator($"tr.rpo-row[data-vm='{fine}']")).Not.ToHaveClassAsync(
            new System.Text.RegularExpressions.Regex("\\blate\\b"));
        await Expect(Web.Page.Locator("#late-count")).ToHaveTextAsync("(1 late)");
        Assert.Equal("rgb(198, 40, 40)", await rows.First.Locator("td").First.EvaluateAsync<string>("e => getComputedStyle(e).color"));
        await Web.ScreenshotAsync("overview-late");

        // Its schedule switched off from the jobs page, and on again: the node's job follows each click.
        await Web.ShowAsync("jobs");
        var schedule = Web.Page.Locator($"tr[data-job='{often}'] li[data-schedule]");
        await Expect(schedule).ToContainTextAsync("next ");
        await schedule.Locator("button.schedule-disable").ClickAsync();
        await Expect(schedule.Locator("button.schedule-enable")).ToBeVisibleAsync();
        Assert.False((await Web.Node.GetAsync($"/api/jobs/{often}"))["schedules"]![0]!["enabled"]!.GetValue<bool>());
        await Web.Page.Locator($"tr[data-job='{often}'] button.job-enable").ClickAsync();
        await Expect(schedule.Locator("button.schedule-disable")).ToBeVisibleAsync();
        Assert.True((await Web.Node.GetAsync($"/api/jobs/{often}"))["schedules"]![0]!["enabled"]!.GetValue<bool>());
        Assert.Empty(Web.Browser.Errors);
    }

    [Fact]
    public async Task A_job_run_from_the_page_shows_live_progress_then_done_and_every_page_draws()
    {
        var (jobId, vm) = await Web.DefineJobAsync("nightly", "tiny01");
        await Web.LogInAsync();
        await Web.ShowAsync("jobs");

        // The export crawls, so a bar is seen part way before the end.
        Web.Alpha.Pool.Faults.ExportBytesPerSecond = 512 * 1024; // read when the export starts: about 16 s for this disk
        await Web.Page.Locator($"tr[data-job='{jobId}'] button.run-now").ClickAsync();
        await Expect(Web.Page.Locator("#status")).ToContainTextAsync("started");
        var run = Web.Page.Locator($"#live .run.going:has(.vm-progress[data-vm='{vm}'])");
        await Expect(run.Locator(".progress-row .bar:not([aria-valuenow='100'])")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Expect(run.Locator(".progress-row").First).ToContainTextAsync("→ Local storage");
        await Web.ScreenshotAsync("live-run");
        Web.Alpha.Pool.Faults.ExportBytesPerSecond = 0; // the next runs

        var done = Web.Page.Locator($"#live .run.done:has(.vm-progress[data-vm='{vm}'])");
        await Expect(done.Locator(".vm-status")).ToHaveTextAsync("success", new() { Timeout = 120_000 });
        await Expect(done.Locator(".run-state")).ToHaveTextAsync("done");
        await Expect(done.Locator("h3")).ToContainTextAsync("of job nightly");
        await Expect(done.Locator(".bar").First).ToHaveAttributeAsync("aria-valuenow", "100");

        // The pages, each drawn from the node's API, with a screenshot under the test results.
        await Web.ShowAsync("overview");
        await Expect(Web.Page.Locator("#lag-plots svg path.line")).ToHaveCountAsync(1);
        await Web.ScreenshotAsync("overview");
        await Web.ShowAsync("jobs");
        await Expect(Web.Page.Locator($"tr[data-job='{jobId}']")).ToContainTextAsync("nightly");
        await Web.ScreenshotAsync("jobs");
        await Web.ShowAsync("runs");
        await Expect(Web.Page.Locator("tr.run-row")).ToHaveCountAsync(1);
        await Expect(Web.Page.Locator("#plot-bytes svg rect")).ToHaveCountAsync(1);
        await Web.ScreenshotAsync("runs");
        var runId = await Web.Page.Locator("tr.run-row").First.GetAttributeAsync("data-run");
        await Web.ShowAsync($"run/{runId}");
        await Expect(Web.Page.Locator(".task-tree")).ToContainTextAsync("export to SR");
        await Web.ScreenshotAsync("run");
        await Web.ShowAsync("replicas");
        await Expect(Web.Page.Locator("section.sr")).ToHaveCountAsync(1);
        await Web.ScreenshotAsync("replicas");
        await Web.ShowAsync("cluster");
        await Expect(Web.Page.Locator("tr.member")).ToHaveCountAsync(1);
        await Web.ScreenshotAsync("cluster");
        await Web.ShowAsync("failover");
        // A forced start asks for "yes" as `xcr failover start --force` asks for --yes; a dry run shows the plan per VM.
        var start = Web.Page.Locator("form#failover-start");
        await start.Locator("input[name=vm]").FillAsync(vm);
        await start.Locator("select[name=mode]").SelectOptionAsync("force");
        await start.Locator("button[type=submit]").ClickAsync();
        await Expect(start.Locator(".result")).ToContainTextAsync("tick \"yes\" to confirm");
        await start.Locator("input[name=dryRun]").CheckAsync();
        await start.Locator("button[type=submit]").ClickAsync();
        await Expect(start.Locator(".result")).ToContainTextAsync($"VM {vm}: ");
        await Web.ScreenshotAsync("failover");
        Assert.Empty(Web.Browser.Errors);
    }
}
