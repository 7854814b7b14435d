using Akka.IO;
using Akka.Streams;
using Akka.Streams.Stage;

namespace XcrCluster.DataChannel;

/// <summary>
/// The sender's frames: one per block (sharing the block's pooled memory: no copy), then the end frame with the
/// block count. Each block is released when the frame after it is asked for: the stages from here to the socket
/// are fused and hold no element of their own, and the TCP stage asks for the next element only once the
/// connection acknowledged the write of the last one (Akka.Streams' TcpConnectionStage pulls on its WriteAck; the
/// TLS transport once its SslStream write returned). So a block goes back to its pool as soon as the socket has
/// its bytes, and the sender costs the pool nothing beyond the block on the wire. A block still in flight when
/// the stream fails is left to the garbage collector: the aborted socket may still be reading it.
/// </summary>
internal sealed class BlockEncoder : GraphStage<FlowShape<PooledBlock, ByteString>>
{
    private readonly Inlet<PooledBlock> @in = new("blocks.in");
    private readonly Outlet<ByteString> @out = new("frames.out");
    private readonly bool compress;
    private readonly Action<PooledBlock> taken;

    /// <param name="compress">LZ4 per block when it is smaller.</param>
    /// <param name="taken">Called with each block as its frame is emitted (the sender counts bytes and progress).</param>
    public BlockEncoder(bool compress, Action<PooledBlock> taken)
    {
        this.compress = compress;
        this.taken = taken;
        Shape = new FlowShape<PooledBlock, ByteString>(@in, @out);
    }

    public override FlowShape<PooledBlock, ByteString> Shape { get; }

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

    private sealed class Logic : InAndOutGraphStageLogic
    {
        private readonly BlockEncoder stage;
        private PooledBlock? onTheWire;
        private long count;
        private bool finished;

        public Logic(BlockEncoder stage)
            : base(stage.Shape)
        {
            this.stage = stage;
            SetHandler(stage.@in, this);
            SetHandler(stage.@out, this);
        }

        public override void OnPush()
        {
            var block = Grab(stage.@in);
            count++;
            stage.taken(block);
            onTheWire = block;
            Push(stage.@out, Frames.EncodeBlock(block.Block, stage.compress));
        }

        public override void OnPull()
        {
            // Asked for more: the socket has the last frame's bytes.
            onTheWire?.Release();
            onTheWire = null;
            if (finished)
            {
                EmitEnd();
            }
            else
            {
                Pull(stage.@in);
            }
        }

        public override void OnUpstreamFinish()
        {
            finished = true;
            if (IsAvailable(stage.@out))
            {
                EmitEnd(); // the last block was released when this demand came
            }
        }

        private void EmitEnd()
        {
            Push(stage.@out, Frames.EncodeEnd(count));
            CompleteStage();
        }
    }
}
