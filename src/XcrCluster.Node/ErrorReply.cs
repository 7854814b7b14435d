using System.Text.Json;
using Akka.Actor;
using XcrCluster.Xapi;

namespace XcrCluster.Node;

/// <summary>A cluster part (control plane, shard region, pool agent) did not answer a request in time.</summary>
public sealed class PartTimeoutException(string part, TimeSpan timeout)
    : TimeoutException($"{part} did not answer within {timeout.TotalSeconds:0.#} s")
{
    public string Part { get; } = part;
}

/// <summary>What the API answers for an exception a handler did not expect: always a status and a one-line JSON error,
/// never an empty 500. 400 for a body that does not bind, 502 for a pool that misbehaved, 503 for a cluster part that
/// did not answer in time (named), 500 with the message otherwise.</summary>
public static class ErrorReply
{
    public static (int Status, string Error) Of(Exception e, TimeSpan askTimeout) => e switch
    {
        // A body that is not the JSON expected: say where (System.Text.Json names the path, e.g. $.settings.copyRetention).
        BadHttpRequestException bad => (bad.StatusCode, bad.InnerException is JsonException j ? $"body: {j.Message}" : bad.Message),
        PartTimeoutException part => (StatusCodes.Status503ServiceUnavailable, part.Message),

        // The control plane is asked through ControlPlaneClient (retried with one request id until the deadline); the other
        // parts through ControlApi.AskPartAsync, which names them.
        XcrCluster.Actors.ControlPlaneUnavailableException or AskTimeoutException => (StatusCodes.Status503ServiceUnavailable,
            $"the control plane did not answer within {askTimeout.TotalSeconds:0.#} s (is a node with the control role up and reachable?)"),
        XapiException or HttpRequestException or IOException or TimeoutException
            => (StatusCodes.Status502BadGateway, $"a pool did not answer as expected: {e.Message}"),
        _ => (StatusCodes.Status500InternalServerError, $"unexpected {e.GetType().Name}: {e.Message}"),
    };
}
