using XcrCluster.Xapi;
using System.Collections.Concurrent;
using XcrCluster.XapiSim.Model;

namespace XcrCluster.XapiSim.Rpc;

/// <summary>Logged-in sessions. Kept in memory only: after a restart every session is invalid, as on a real
/// toolstack restart, and clients log in again on SESSION_INVALID.</summary>
public sealed class Sessions
{
    private readonly ConcurrentDictionary<string, string> users = new(StringComparer.Ordinal);

    public string Open(string user)
    {
        var @ref = Xapi.Wire.XapiValue.NewRef();
        users[@ref] = user;
        return @ref;
    }

    public bool IsValid(string? @ref) => @ref is not null && users.ContainsKey(@ref);

    public void Check(string? @ref)
    {
        if (!IsValid(@ref))
        {
            throw new XapiException("SESSION_INVALID", @ref ?? "");
        }
    }

    public void Close(string @ref) => users.TryRemove(@ref, out _);

    /// <summary>Fault injection: every open session becomes invalid at once.</summary>
    public void InvalidateAll() => users.Clear();
}
