using XcrCluster.Domain.Pools;
using XcrCluster.Domain.Vm;

namespace XcrCluster.Actors;

/// <summary>A run's source side, sent to the source pool's agent (on the node serving that pool): one session per
/// attempt, which takes the snapshot, exports and streams the blocks to every target, and answers with the result.</summary>
public interface ISourceMessage : IPoolAgentMessage
{
    string Session { get; }
}

/// <summary>Asks the agent to run this attempt on its node; the reply is <see cref="SourceStarted"/> from the session
/// (the orchestrator then watches it), its progress, and at the end <see cref="SourceFinished"/>.</summary>
public sealed record RunSource(string Pool, string Session, ReplicateVm Request) : ISourceMessage;

public sealed record SourceStarted(string Pool, string Session) : ISourceMessage;

/// <summary>The attempt's result, or the agent's refusal to start it (a failed result).</summary>
public sealed record SourceFinished(string Pool, string Session, RunResult Result) : ISourceMessage;

/// <summary>The orchestrator cancels: the session undoes what the attempt made and answers <see cref="SourceFinished"/>.</summary>
public sealed record CancelSource(string Pool, string Session) : ISourceMessage;
