using XcrCluster.Domain.Vm;

namespace XcrCluster.Domain.Tests;

/// <summary>The run's task tree built from the flat log: run > VM > snapshot / export per SR > transfer > target snapshot.</summary>
public sealed class TaskTreeTests
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.UnixEpoch;

    private static LogLine Line(string name, int from, int to, string? target = null, long? size = null, string status = "success", string? message = null)
        => new(name, status, T0.AddSeconds(from), T0.AddSeconds(to), size, message, target);

    [Fact]
    public void Lines_of_a_target_go_under_its_export_and_parents_span_their_children()
    {
        var result = new RunResult("r1", RunStatus.Failed, "SR b: reset", false, "snap", [new TargetResult("a", true, null, "vm-a", "rp-a", 300), new TargetResult("b", false, "reset", null, null, 0)],
        [
            Line("snapshot", 0, 2),
            Line("transfer disk 0", 2, 10, "a", 300, message: "delta"),
            Line("transfer disk 0", 2, 7, "b", status: "failure", message: "reset"),
            Line("target snapshot", 10, 11, "a"),
        ]);

        var run = TaskTree.Build("vm-1", result);
        Assert.Equal("run r1", run.Name);
        Assert.Equal(300, run.Size);
        Assert.Equal(11, run.DurationSeconds);
        var vm = Assert.Single(run.Children);
        Assert.Equal(["snapshot", "export to SR a", "export to SR b"], vm.Children.Select(c => c.Name));
        var a = vm.Children[1];
        Assert.Equal(("success", 300L, 9.0), (a.Status, a.Size!.Value, a.DurationSeconds!.Value));
        Assert.Equal(["transfer disk 0", "target snapshot"], a.Children.Select(c => c.Name));
        Assert.Equal("delta", a.Children[0].Message);
        Assert.Equal(("failure", "reset"), (vm.Children[2].Status, vm.Children[2].Message));
    }

    [Fact]
    public void An_interrupted_run_has_a_vm_task_and_no_export()
    {
        var run = TaskTree.Build("vm-1", new RunResult("r2", RunStatus.Interrupted, "the node stopped during the run", false, null, [], []));
        var vm = Assert.Single(run.Children);
        Assert.Empty(vm.Children);
        Assert.Equal("interrupted", vm.Status);
        Assert.Null(run.DurationSeconds);
    }
}
