using System.Net;
using System.Net.Sockets;

namespace XcrCluster.Testing;

/// <summary>
/// A TCP proxy on loopback in front of one endpoint, whose link can be cut as a dropping firewall rule would: while
/// <see cref="Dropping"/>, bytes in flight are held back in both directions and nothing is answered, but no connection is
/// closed or reset, so each side sees only silence. Every connection is closed on dispose.
/// </summary>
public sealed class BlackholeProxy : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stop = new();
    private readonly List<TcpClient> connections = [];
    private readonly Task accepting;
    private long forwarded;
    private volatile TaskCompletionSource open = Opened();

    /// <summary>Listens at once (its port can be advertised before the endpoint behind it exists); set
    /// <see cref="Target"/> before anything connects.</summary>
    public BlackholeProxy()
    {
        listener.Start();
        accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

    public IPEndPoint? Target { get; set; }

    /// <summary>Bytes passed on, both directions.</summary>
    public long Forwarded => Interlocked.Read(ref forwarded);

    /// <summary>Set to drop the link (silence both ways), clear to let it through again.</summary>
    public bool Dropping
    {
        get => !open.Task.IsCompleted;
        set
        {
            if (value && !Dropping)
            {
                open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            else if (!value)
            {
                open.TrySetResult();
            }
        }
    }

    private static TaskCompletionSource Opened()
    {
        var opened = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        opened.SetResult();
        return opened;
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        lock (connections)
        {
            connections.ForEach(c => c.Dispose());
        }

        await accepting.ContinueWith(_ => { }, TaskScheduler.Default);
        stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient inbound;
            try
            {
                inbound = await listener.AcceptTcpClientAsync(stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var outbound = new TcpClient();
            lock (connections)
            {
                connections.Add(inbound);
                connections.Add(outbound);
            }

            _ = LinkAsync(inbound, outbound);
        }
    }

    private async Task LinkAsync(TcpClient inbound, TcpClient outbound)
    {
        try
        {
            await outbound.ConnectAsync(Target ?? throw new InvalidOperationException("no target yet"), stop.Token);
            // Each direction ends on its own (a sender half-closes, then reads the receiver's status): wait for both.
            await Task.WhenAll(PumpAsync(inbound, outbound), PumpAsync(outbound, inbound));
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or IOException or ObjectDisposedException
            or InvalidOperationException)
        {
        }
        finally
        {
            inbound.Dispose();
            outbound.Dispose();
        }
    }

    private async Task PumpAsync(TcpClient source, TcpClient destination)
    {
        var from = source.GetStream();
        var to = destination.GetStream();
        var buffer = new byte[64 * 1024];
        while (true)
        {
            // While dropping, stop reading too: the sender's socket buffers fill and it stalls, as behind a dead link.
            await open.Task.WaitAsync(stop.Token);

            var n = await from.ReadAsync(buffer, stop.Token);
            if (n == 0)
            {
                destination.Client.Shutdown(SocketShutdown.Send);
                return;
            }

            await open.Task.WaitAsync(stop.Token);

            await to.WriteAsync(buffer.AsMemory(0, n), stop.Token);
            Interlocked.Add(ref forwarded, n);
        }
    }
}
