using System.Net;
using System.Net.Sockets;

namespace XcrCluster.DataChannel.Tests;

/// <summary>A peer that speaks raw bytes to a receiver (no sender, no TLS): what a stranger on the network can do.</summary>
public sealed class RawPeer : IDisposable
{
    private readonly Socket socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);

    public static async Task<RawPeer> ConnectAsync(IPEndPoint endpoint)
    {
        var peer = new RawPeer();
        await peer.socket.ConnectAsync(endpoint);
        return peer;
    }

    /// <summary>Sends what it can of <paramref name="bytes"/>; false when the receiver closed the connection first.</summary>
    public async Task<bool> TrySendAsync(byte[] bytes, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        try
        {
            for (var sent = 0; sent < bytes.Length;)
            {
                sent += await socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None, timeout.Token);
            }

            return true;
        }
        catch (SocketException)
        {
            return false;
        }
        catch (OperationCanceledException)
        {
            return false; // the receiver stopped reading
        }
    }

    /// <summary>Whether the receiver closes the connection within the time (whatever it answers before).</summary>
    public async Task<bool> ClosedWithinAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        var buffer = new byte[4096];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) > 0)
            {
            }

            return true;
        }
        catch (SocketException)
        {
            return true; // reset: closed as well
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>A frame header alone (type and announced payload length).</summary>
    public static byte[] Header(byte type, int payload)
    {
        var header = new byte[Frames.HeaderSize];
        Frames.WriteHeader(header, type, payload);
        return header;
    }

    public void Dispose() => socket.Dispose();
}
