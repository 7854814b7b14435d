using Akka.Streams;
using Akka.Streams.Stage;

namespace XcrCluster.DataChannel;

/// <summary>
/// Holds the sender's blocks back until the receiver has accepted the token (its <see cref="Frames.Go"/> frame):
/// a refused sender has written nothing but its hello, so the receiver's close finds no unread bytes, the kernel
/// sends no reset, and the refusal reaches the sender instead of "connection reset". The gate holds no element:
/// it passes the socket's demand upstream only once open, so the block encoder's release-on-write still holds.
/// </summary>
internal sealed class AdmissionGate : GraphStage<FlowShape<PooledBlock, PooledBlock>>
{
    private readonly Inlet<PooledBlock> @in = new("gate.in");
    private readonly Outlet<PooledBlock> @out = new("gate.out");
    private readonly Task open;

    /// <param name="open">Completes when the receiver admitted the transfer; fails when it will not.</param>
    public AdmissionGate(Task open)
    {
        this.open = open;
        Shape = new FlowShape<PooledBlock, PooledBlock>(@in, @out);
    }

    public override FlowShape<PooledBlock, PooledBlock> Shape { get; }

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

    private sealed class Logic : InAndOutGraphStageLogic
    {
        private readonly AdmissionGate stage;
        private bool isOpen;
        private bool finishing;

        public Logic(AdmissionGate stage)
            : base(stage.Shape)
        {
            this.stage = stage;
            SetHandler(stage.@in, this);
            SetHandler(stage.@out, this);
        }

        public override void PreStart()
        {
            var opened = GetAsyncCallback<Task>(t =>
            {
                if (!t.IsCompletedSuccessfully)
                {
                    FailStage(t.Exception?.GetBaseException() ?? new OperationCanceledException("data channel: not admitted"));
                    return;
                }

                isOpen = true;
                if (finishing)
                {
                    CompleteStage();
                }
                else if (IsAvailable(stage.@out) && !HasBeenPulled(stage.@in))
                {
                    Pull(stage.@in);
                }
            });
            stage.open.ContinueWith(opened, TaskScheduler.Default);
        }

        public override void OnPush() => Push(stage.@out, Grab(stage.@in));

        public override void OnPull()
        {
            if (isOpen)
            {
                Pull(stage.@in);
            }
        }

        /// <summary>No blocks at all: the end frame, too, waits for the Go (it would be unread bytes at a refusal).</summary>
        public override void OnUpstreamFinish()
        {
            if (isOpen)
            {
                CompleteStage();
            }
            else
            {
                finishing = true;
            }
        }
    }
}
