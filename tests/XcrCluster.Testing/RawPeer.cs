using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace XcrCluster.Testing;

/// <summary>A peer that speaks raw bytes to a data channel receiver (no sender, no TLS, no token): what a stranger
/// on the network can do.</summary>
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

    /// <summary>A data channel frame header alone: type, then the announced payload length (big-endian).</summary>
    public static byte[] Header(char type, int payload)
    {
        var header = new byte[5];
        header[0] = (byte)type;
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(1), payload);
        return header;
    }

    public void Dispose() => socket.Dispose();
}
