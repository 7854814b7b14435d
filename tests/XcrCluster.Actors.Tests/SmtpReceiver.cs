using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using MimeKit;
using SmtpServer;
using SmtpServer.Authentication;
using SmtpServer.ComponentModel;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace XcrCluster.Actors.Tests;

/// <summary>A real SMTP server on loopback (the SmtpServer package) that keeps every message and the logins it accepted;
/// with a user, it asks for a login (AUTH over plain text, as a test relay may).</summary>
public sealed class SmtpReceiver : IAsyncDisposable
{
    private readonly CancellationTokenSource stop = new();
    private Task running = Task.CompletedTask;

    public ConcurrentQueue<MimeMessage> Messages { get; } = new();

    public ConcurrentQueue<(string User, string Password)> Logins { get; } = new();

    public int Port { get; private set; }

    public static async Task<SmtpReceiver> StartAsync(string? user = null, string? password = null)
    {
        var receiver = new SmtpReceiver();
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            receiver.Port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
        }

        var options = new SmtpServerOptionsBuilder().ServerName("localhost")
            .Endpoint(e => e.Endpoint(new IPEndPoint(IPAddress.Loopback, receiver.Port)).AllowUnsecureAuthentication(true)
                .AuthenticationRequired(user is not null))
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(new Store(receiver.Messages));
        services.Add(new Authenticator(receiver.Logins, user, password));
        receiver.running = new SmtpServer.SmtpServer(options, services).StartAsync(receiver.stop.Token);
        await Poll.UntilAsync(() => Accepts(receiver.Port), "the SMTP server to listen", TimeSpan.FromSeconds(30));
        return receiver;
    }

    private static bool Accepts(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        try
        {
            await running;
        }
        catch (OperationCanceledException)
        {
        }

        stop.Dispose();
    }

    private sealed class Store(ConcurrentQueue<MimeMessage> messages) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction,
            ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            using var stream = new MemoryStream(buffer.ToArray());
            messages.Enqueue(await MimeMessage.LoadAsync(stream, cancellationToken));
            return SmtpResponse.Ok;
        }
    }

    private sealed class Authenticator(ConcurrentQueue<(string, string)> logins, string? user, string? password) : UserAuthenticator
    {
        public override Task<bool> AuthenticateAsync(ISessionContext context, string name, string secret, CancellationToken ct)
        {
            logins.Enqueue((name, secret));
            return Task.FromResult(name == user && secret == password);
        }
    }
}
