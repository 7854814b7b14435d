using XcrCluster.Domain.Control;
using XcrCluster.Domain.Recovery;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Domain.Tests;

/// <summary>A recovery command's record: its status from its VMs, its task tree, and the bounded list the control plane keeps.</summary>
public sealed class RecoveryRecordTests
{
    private static readonly DateTimeOffset At = DateTimeOffset.UnixEpoch.AddYears(56);

    private static RecoveryRecord Record(string id, params RunStatus[] statuses) => new(id, RecoveryKind.FailoverCopy, "job-1", At,
        At.AddMinutes(1), [.. statuses.Select((s, i) => new RecoveryVmOutcome($"vm-{i}", s, s == RunStatus.Success ? null : "boom",
            [new LogLine("clone", "success", At, At.AddSeconds(5)), new LogLine("start", s.Name(), At.AddSeconds(5), At.AddSeconds(9))]))]);

    [Fact]
    public void The_status_is_success_partial_or_failure_by_its_vms()
    {
        Assert.Equal("success", Record("r", RunStatus.Success, RunStatus.Success).Status);
        Assert.Equal("partial", Record("r", RunStatus.Success, RunStatus.Failed).Status);
        Assert.Equal("failure", Record("r", RunStatus.Failed, RunStatus.Failed).Status);
    }

    [Fact]
    public void The_task_tree_is_the_command_then_the_vm_then_its_steps()
    {
        var record = Record("recovery-1", RunStatus.Failed);
        var tree = record.Tasks(record.Vms[0]);
        Assert.Equal("failover-copy recovery-1", tree.Name);
        var vm = Assert.Single(tree.Children);
        Assert.Equal(("VM vm-0", "failure", "boom"), (vm.Name, vm.Status, vm.Message));
        Assert.Equal(["clone", "start"], vm.Children.Select(c => c.Name));
        Assert.Equal(9, vm.DurationSeconds);
    }

    [Fact]
    public void The_control_plane_keeps_the_newest_records_found_by_id()
    {
        var state = new ControlState();
        for (var i = 0; i < ControlState.RecoveriesKept + 3; i++)
        {
            var (e, reply) = state.Process(new RecordRecovery(Record($"r-{i}", RunStatus.Success)));
            Assert.Equal(new Done($"r-{i}"), reply);
            state = state.Apply(e!);
        }

        Assert.Equal(ControlState.RecoveriesKept, state.Recoveries.Count);
        Assert.Equal(new RecoveryReply(null), state.Process(new GetRecovery("r-0")).Reply);
        var found = Assert.IsType<RecoveryReply>(state.Process(new GetRecovery("r-7")).Reply).Record;
        Assert.Equal("r-7", found!.Id);
    }
}
