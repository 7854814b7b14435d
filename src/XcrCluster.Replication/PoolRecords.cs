using XcrCluster.Xapi;
using XcrCluster.Xapi.Mirror;
using XcrCluster.Xapi.Records;

namespace XcrCluster.Replication;

/// <summary>Where the engine reads records: the pool's live mirror when the node keeps one (after a barrier, so this
/// session's own writes are visible), else the pool itself. A whole-pool read is free from the mirror and costs
/// get_all_records without it; a run reads whole classes and filters them in memory.</summary>
public sealed partial class Pool
{
    private readonly Lock barrierGate = new();
    private long barrierAt = -1;
    private (long Writes, Task Barrier)? pending;

    /// <summary>The pool's live mirror (one per pool on the node serving it); null: every read goes to the pool.</summary>
    public PoolMirror? Mirror { get; init; }

    /// <summary>The next read waits for the mirror to show the pool as it is now, whoever changed it: a run starts with
    /// it, so a Pool kept across runs does not read another session's changes late.</summary>
    public void ReadFromNow() => Interlocked.Exchange(ref barrierAt, -1);

    /// <summary>Every object of class <typeparamref name="T"/>.</summary>
    public async Task<IReadOnlyList<T>> AllAsync<T>(CancellationToken ct = default)
        where T : IXapiRecord<T>
        => await FromMirrorAsync<IReadOnlyList<T>>(async m => await m.AllAsync<T>(ct).ConfigureAwait(false), ct).ConfigureAwait(false)
            ?? await Client.GetAllRecordsAsync<T>(ct).ConfigureAwait(false);

    /// <summary>Every object of class <typeparamref name="T"/> in one view, found by ref and by <see cref="PoolIndex"/>'s keys:
    /// a reader touches only the records it asks for, however large the pool.</summary>
    public async Task<RecordSet<T>> SetAsync<T>(CancellationToken ct = default)
        where T : class, IXapiRecord<T>
        => await FromMirrorAsync<RecordSet<T>>(
            async m => await m.SetAsync<T>(PoolIndex.Instance, ct).ConfigureAwait(false), ct).ConfigureAwait(false)
            ?? RecordSet<T>.From((await Client.GetAllRecordsAsync<T>(ct).ConfigureAwait(false)).Select(r => (r.Ref, r)),
                PoolIndex.Instance);

    /// <summary>One object by ref; HANDLE_INVALID (from the pool) when it does not exist. An object the mirror does not
    /// hold is read from the pool: the mirror may not have heard of another session's new object yet.</summary>
    public async Task<T> RecordAsync<T>(string @ref, CancellationToken ct = default)
        where T : class, IXapiRecord<T>
        => await FromMirrorAsync(m => m.FindAsync<T>(@ref, ct), ct).ConfigureAwait(false)
            ?? await Client.GetRecordAsync<T>(@ref, ct).ConfigureAwait(false);

    /// <summary>What <paramref name="read"/> finds in the mirror once it is ready; null when there is no mirror, it cannot
    /// catch up in time, or it lost its stream since the barrier and is not back in time (the caller reads the pool).</summary>
    private async Task<TResult?> FromMirrorAsync<TResult>(Func<PoolMirror, Task<TResult?>> read, CancellationToken ct)
        where TResult : class
    {
        if (await MirrorReadyAsync(ct).ConfigureAwait(false) is not { } mirror)
        {
            return null;
        }

        try
        {
            return await read(mirror).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    /// <summary>The mirror once it shows everything this session wrote: a barrier when the session wrote since the last
    /// one (or never had one). Null: no mirror, or it could not catch up in time (the caller reads the pool).</summary>
    private async Task<PoolMirror?> MirrorReadyAsync(CancellationToken ct)
    {
        if (Mirror is not { } mirror)
        {
            return null;
        }

        var writes = Client.Writes;
        if (Interlocked.Read(ref barrierAt) == writes)
        {
            return mirror;
        }

        // Reads started together (the inventory's four classes) share one barrier while it is under way.
        Task barrier;
        lock (barrierGate)
        {
            if (pending is not { } p || p.Writes != writes || p.Barrier.IsCompleted)
            {
                pending = p = (writes, mirror.BarrierAsync(Client, ct));
            }

            barrier = p.Barrier;
        }

        try
        {
            await barrier.ConfigureAwait(false);
            Interlocked.Exchange(ref barrierAt, writes);
            return mirror;
        }
        catch (TimeoutException)
        {
            return null;
        }
    }
}
