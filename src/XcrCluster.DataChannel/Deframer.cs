using System.Buffers;
using System.Buffers.Binary;
using Akka.IO;
using Akka.Streams;
using Akka.Streams.Stage;

namespace XcrCluster.DataChannel;

/// <summary>One frame off the wire; its payload sits in a buffer of <paramref name="Pool"/> that the consumer gives back
/// with <see cref="Return"/> (or hands on: <see cref="Frames.TakeBlock"/>).</summary>
public sealed record Frame(byte Type, byte[] Buffer, int Length, ArrayPool<byte> Pool)
{
    public ReadOnlySpan<byte> Payload => Buffer.AsSpan(0, Length);

    public void Return() => Pool.Return(Buffer);
}

/// <summary>
/// TCP chunks in, whole frames out, each payload copied once into a pooled buffer (no per-block allocation: the
/// measured difference between 0.6 and 1 GB/s, docs/engineering-notes.md §4), which a block frame's block then
/// keeps (<see cref="Frames.TakeBlock"/>: no second buffer). A complete frame waits for demand (backpressure);
/// completion is deferred until it has been pushed (the pitfall a slow consumer shows). Oversized or truncated
/// frames fail the stream, at their header: nothing is allocated for a frame that is refused.
/// </summary>
public sealed class Deframer : GraphStage<FlowShape<ByteString, Frame>>
{
    private readonly Inlet<ByteString> @in = new("deframer.in");
    private readonly Outlet<Frame> @out = new("deframer.out");
    private readonly int firstFrameLimit;
    private readonly ArrayPool<byte> pool;

    /// <param name="firstFrameLimit">The largest first frame (a receiver passes <see cref="Frames.MaxHello"/>: a
    /// peer is not trusted before its hello). With a limit below <see cref="Frames.MaxPayload"/>, the frame after the
    /// first is not started until it is asked for, so nothing larger than the first frame is buffered before the
    /// consumer has accepted it.</param>
    /// <param name="pool">Where payload buffers come from (the shared pool when null; tests count with their own).</param>
    public Deframer(int firstFrameLimit = Frames.MaxPayload, ArrayPool<byte>? pool = null)
    {
        this.firstFrameLimit = firstFrameLimit;
        this.pool = pool ?? ArrayPool<byte>.Shared;
        Shape = new FlowShape<ByteString, Frame>(@in, @out);
    }

    public override FlowShape<ByteString, Frame> Shape { get; }

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

    private sealed class Logic : InGraphStageLogic, IOutHandler
    {
        private readonly Deframer stage;
        private readonly byte[] header = new byte[Frames.HeaderSize];
        private ByteString current = ByteString.Empty;
        private int offset;
        private int headerFill;
        private byte[]? payload;
        private int payloadLength;
        private int payloadFill;
        private bool finishing;
        private long pushed;

        public Logic(Deframer stage)
            : base(stage.Shape)
        {
            this.stage = stage;
            SetHandler(stage.@in, this);
            SetHandler(stage.@out, this);
        }

        public override void OnPush()
        {
            current = Grab(stage.@in);
            offset = 0;
            Drain();
        }

        public override void OnUpstreamFinish()
        {
            finishing = true;
            Drain();
        }

        public void OnPull() => Drain();

        public void OnDownstreamFinish(Exception cause) => InternalOnDownstreamFinish(cause);

        public override void PostStop()
        {
            if (payload is not null)
            {
                stage.pool.Return(payload);
                payload = null;
            }
        }

        private void Drain()
        {
            var span = current.Count > 0 ? current.ToReadOnlySpan() : ReadOnlySpan<byte>.Empty;
            while (true)
            {
                if (payload is not null && payloadFill == payloadLength)
                {
                    if (!IsAvailable(stage.@out))
                    {
                        return; // hold the frame (and the rest of the chunk) until there is demand
                    }

                    Push(stage.@out, new Frame(header[0], payload, payloadLength, stage.pool));
                    payload = null;
                    headerFill = 0;
                    pushed++;
                    continue;
                }

                if (offset >= span.Length)
                {
                    break;
                }

                if (payload is null && headerFill == 0 && pushed == 1 && stage.firstFrameLimit < Frames.MaxPayload
                    && !IsAvailable(stage.@out))
                {
                    return; // the second frame waits (with the chunk it starts in) for the consumer to accept the first
                }

                if (payload is null)
                {
                    var n = Math.Min(Frames.HeaderSize - headerFill, span.Length - offset);
                    span.Slice(offset, n).CopyTo(header.AsSpan(headerFill));
                    offset += n;
                    headerFill += n;
                    if (headerFill < Frames.HeaderSize)
                    {
                        break;
                    }

                    payloadLength = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1));
                    var limit = pushed == 0 ? Math.Min(stage.firstFrameLimit, Frames.MaxPayload) : Frames.MaxPayload;
                    if (payloadLength < 0 || payloadLength > limit)
                    {
                        FailStage(new InvalidDataException(pushed == 0 && limit < Frames.MaxPayload
                            ? $"data channel: a first frame of {payloadLength} bytes announced, more than a hello's {limit}: refused"
                            : $"data channel: frame of {payloadLength} bytes refused"));
                        return;
                    }

                    payload = stage.pool.Rent(Math.Max(payloadLength, 1));
                    payloadFill = 0;
                    continue;
                }

                var m = Math.Min(payloadLength - payloadFill, span.Length - offset);
                span.Slice(offset, m).CopyTo(payload.AsSpan(payloadFill));
                offset += m;
                payloadFill += m;
            }

            current = ByteString.Empty;
            if (finishing)
            {
                if (headerFill > 0 || payload is not null)
                {
                    FailStage(new InvalidDataException("data channel: the connection ended inside a frame"));
                }
                else
                {
                    CompleteStage();
                }
            }
            else if (!HasBeenPulled(stage.@in))
            {
                Pull(stage.@in);
            }
        }
    }
}
