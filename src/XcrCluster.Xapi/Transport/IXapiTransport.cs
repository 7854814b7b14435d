namespace XcrCluster.Xapi.Transport;

/// <summary>Carries one XAPI call; raises <see cref="XapiException"/> for XAPI errors.</summary>
public interface IXapiTransport
{
    string Name { get; }

    Task<object?> CallAsync(string method, IReadOnlyList<object?> parameters, CancellationToken ct);
}

/// <summary>The server does not speak this transport (wrong content type or 404): switch transports.</summary>
public sealed class UnsupportedTransportException(string message) : Exception(message);
