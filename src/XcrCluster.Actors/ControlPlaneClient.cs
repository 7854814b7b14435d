using System.Diagnostics;
using Akka.Actor;
using XcrCluster.Domain.Control;

namespace XcrCluster.Actors;

/// <summary>The control plane did not answer before the caller's deadline (its journal is unavailable, or its
/// singleton is moving or restarting).</summary>
public sealed class ControlPlaneUnavailableException(string message, Exception? inner) : TimeoutException(message, inner);

/// <summary>
/// Asks the control plane, retrying until an overall deadline. The control plane restarts with a backoff after a
/// journal failure (<see cref="SingletonBackoff"/>) and a command sent meanwhile is lost with it; every attempt
/// carries the same request id (<see cref="ControlRequest"/>), so a command that was applied before its answer got
/// lost is not applied twice.
/// </summary>
public static class ControlPlaneClient
{
    /// <summary>How long one attempt waits before it is sent again.</summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(200);

    public static Task<T> AskAsync<T>(IActorRef controlPlane, IControlRequest command, TimeSpan deadline, CancellationToken ct = default)
        where T : IControlReply
        => AskAsync<T>(() => Task.FromResult(controlPlane), command, deadline, ct);

    public static async Task<T> AskAsync<T>(
        Func<Task<IActorRef>> controlPlane, IControlRequest command, TimeSpan deadline, CancellationToken ct = default)
        where T : IControlReply
    {
        var request = command as ControlRequest ?? new ControlRequest(Guid.NewGuid().ToString(), command);
        var clock = Stopwatch.StartNew();
        var attempts = 0;
        Exception? last = null;
        while (clock.Elapsed < deadline)
        {
            var left = deadline - clock.Elapsed;
            attempts++;
            try
            {
                var target = await controlPlane().WaitAsync(left, ct).ConfigureAwait(false);
                return await target.Ask<T>(request, left < AttemptTimeout ? left : AttemptTimeout, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (e is AskTimeoutException or TimeoutException && !ct.IsCancellationRequested)
            {
                last = e;
            }

            // An attempt that failed at once (no singleton yet) is not repeated in a tight loop.
            var pause = deadline - clock.Elapsed;
            if (pause > TimeSpan.Zero)
            {
                await Task.Delay(pause < Pause ? pause : Pause, ct).ConfigureAwait(false);
            }
        }

        throw new ControlPlaneUnavailableException(
            $"the control plane did not answer {request.Command.GetType().Name} within {deadline.TotalSeconds:F0} s ({attempts} attempts): "
            + (last?.Message ?? "no answer"), last);
    }
}
