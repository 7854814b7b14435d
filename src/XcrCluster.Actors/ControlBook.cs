using System.Collections.Immutable;
using XcrCluster.Domain.Control;

namespace XcrCluster.Actors;

/// <summary>A control plane command sent with a request id (<see cref="ControlPlaneClient"/>): sent again after a lost
/// answer, it is applied once and answered as the first time.</summary>
public sealed record ControlRequest(string RequestId, IControlRequest Command) : IControlRequest;

/// <summary>The event of a <see cref="ControlRequest"/>: the control state's event, the request id and the reply.</summary>
public sealed record ControlApplied(string RequestId, IControlEvent Event, IControlReply Reply) : IControlEvent;

/// <summary>A request the control plane applied and what it answered.</summary>
public sealed record AppliedRequest(string RequestId, IControlReply Reply);

/// <summary>What the control plane persists and snapshots: the <see cref="ControlState"/> and the ids of the last
/// <see cref="RequestsKept"/> requests it applied (bounded: a retry comes within seconds, never thousands of
/// requests later). Pure.</summary>
public sealed record ControlBook
{
    public const int RequestsKept = 1000;

    public ControlState State { get; init; } = new();

    public ImmutableList<AppliedRequest> Applied { get; init; } = [];

    public (IControlEvent? Event, IControlReply Reply) Process(IControlRequest command) => command switch
    {
        ControlRequest r when Applied.Find(a => a.RequestId == r.RequestId) is { } done => (null, done.Reply),
        ControlRequest r => State.Process(r.Command) switch
        {
            ({ } e, var reply) => (new ControlApplied(r.RequestId, e, reply), reply),
            var refused => refused,
        },
        _ => State.Process(command),
    };

    public ControlBook Apply(IControlEvent e) => e switch
    {
        ControlApplied a => this with
        {
            State = State.Apply(a.Event),
            Applied = (Applied.Count >= RequestsKept ? Applied.RemoveAt(0) : Applied).Add(new AppliedRequest(a.RequestId, a.Reply)),
        },
        _ => this with { State = State.Apply(e) },
    };
}
