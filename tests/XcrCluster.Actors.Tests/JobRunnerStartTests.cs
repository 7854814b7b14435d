using Akka.Actor;
using XcrCluster.Domain;
using XcrCluster.Domain.Control;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors.Tests;

/// <summary>A start without a coordinator asks the VMs' entities together, not one after the other: the region's stand-in
/// answers only once every VM was asked, which a start asking in turn never gets to.</summary>
public sealed class JobRunnerStartTests() : Akka.TestKit.Xunit2.TestKit("""
    akka.persistence.journal.plugin = "akka.persistence.journal.inmem"
    akka.persistence.snapshot-store.plugin = "akka.persistence.snapshot-store.inmem"
    """)
{
    [Fact]
    public async Task Every_vm_is_asked_before_any_answer_and_the_answers_keep_the_jobs_order()
    {
        string[] vms = ["vm-p1", "vm-p2", "vm-p3", "vm-p4"];
        var region = Sys.ActorOf(Props.Create(() => new AnswerWhenAllAsked(vms.Length, "vm-p3")));
        var job = new JobDefinition("job-p", "job", "a", vms, [new TargetRef("b", "sr-1")], new ReplicationSettings { Concurrency = 0 });
        var actors = new JobRunner.Targets(region, Sys.ActorOf(ControlPlaneActor.Props()), ActorRefs.Nobody) { System = Sys };

        var (_, starts) = await JobRunner.StartAsync(actors, job, new JobSchedule("s"), "test").WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(vms, starts.Select(s => s.Vm));
        Assert.Equal([true, true, false, true], starts.Select(s => s.Accepted));
        Assert.Equal("busy", starts[2].Reason);
    }

    [Fact]
    public async Task A_vm_whose_entity_does_not_answer_is_reported_and_the_others_are_still_started()
    {
        var vms = Enumerable.Range(1, JobRunner.StartsInFlight + 2).Select(i => $"vm-s{i}").ToArray();
        var region = Sys.ActorOf(Props.Create(() => new SilentFor(vms[0])));
        var job = new JobDefinition("job-s", "job", "a", vms, [new TargetRef("b", "sr-1")], new ReplicationSettings { Concurrency = 0 });
        var actors = new JobRunner.Targets(region, Sys.ActorOf(ControlPlaneActor.Props()), ActorRefs.Nobody)
        {
            System = Sys, Coordination = RunCoordinator.Options.Default with { StartTimeout = TimeSpan.FromSeconds(1) },
        };

        var (_, starts) = await JobRunner.StartAsync(actors, job, new JobSchedule("s"), "test").WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Contains("did not answer within 1 s", Assert.Single(starts, s => !s.Accepted).Reason);
        Assert.Equal(vms[1..], starts.Where(s => s.Accepted).Select(s => s.Vm));
    }

    [Fact]
    public async Task Entities_that_do_not_answer_hold_back_none_of_the_others()
    {
        // As after a kill -9: the first VMs' entities live on the dead node and answer only when their shards move.
        const int silent = 100;
        var vms = Enumerable.Range(1, silent + 5).Select(i => $"vm-d{i:D3}").ToArray();
        var region = Sys.ActorOf(Props.Create(() => new SilentForFirst(silent, TestActor)));
        var job = new JobDefinition("job-d", "job", "a", vms, [new TargetRef("b", "sr-1")], new ReplicationSettings { Concurrency = 0 });
        var actors = new JobRunner.Targets(region, Sys.ActorOf(ControlPlaneActor.Props()), ActorRefs.Nobody)
        {
            System = Sys, Coordination = RunCoordinator.Options.Default with { StartTimeout = TimeSpan.FromMinutes(5) },
        };

        _ = JobRunner.StartAsync(actors, job, new JobSchedule("s"), "test");

        // Well before any silent ask times out, every answering VM was asked.
        var asked = Enumerable.Range(0, 5).Select(_ => ExpectMsg<string>(TimeSpan.FromSeconds(20))).Order(StringComparer.Ordinal);
        Assert.Equal(vms[silent..], asked);
    }

    /// <summary>Never answers the requests of VMs vm-d001 to the <paramref name="silent"/>th; accepts the others and tells
    /// <paramref name="probe"/> their VM.</summary>
    private sealed class SilentForFirst : ReceiveActor
    {
        public SilentForFirst(int silent, IActorRef probe)
        {
            Receive<ReplicateVm>(r =>
            {
                if (int.Parse(r.VmUuid[4..], System.Globalization.CultureInfo.InvariantCulture) > silent)
                {
                    Sender.Tell(new RunAccepted(r.VmUuid, r.RunId, false));
                    probe.Tell(r.VmUuid);
                }
            });
        }
    }

    /// <summary>Accepts every request but <paramref name="silent"/>'s, which it never answers.</summary>
    private sealed class SilentFor : ReceiveActor
    {
        public SilentFor(string silent) => Receive<ReplicateVm>(r =>
        {
            if (r.VmUuid != silent)
            {
                Sender.Tell(new RunAccepted(r.VmUuid, r.RunId, false));
            }
        });
    }

    /// <summary>Holds every request until <paramref name="count"/> arrived, then accepts them all but
    /// <paramref name="refused"/>'s.</summary>
    private sealed class AnswerWhenAllAsked : ReceiveActor
    {
        public AnswerWhenAllAsked(int count, string refused)
        {
            var held = new List<(ReplicateVm Request, IActorRef Sender)>();
            Receive<ReplicateVm>(request =>
            {
                held.Add((request, Sender));
                if (held.Count < count)
                {
                    return;
                }

                foreach (var (r, sender) in held)
                {
                    sender.Tell(r.VmUuid == refused
                        ? new RunRejected(r.VmUuid, r.RunId, "busy") : new RunAccepted(r.VmUuid, r.RunId, false));
                }
            });
        }
    }
}
