using System.Diagnostics;
using XcrCluster.Xapi;
using XcrCluster.XapiSim.Model;

namespace XcrCluster.XapiSim.Rpc;

/// <summary>
/// Routes a decoded call the way XAPI's server does: system.listMethods and session.login_with_password need
/// no session; everything else checks the session, the method name and the parameter count; Async.* starts a
/// task and returns its ref at once. The failCalls and hangCalls faults act here, before the handler runs.
/// </summary>
public sealed class Dispatcher(SimPool pool)
{
    public const string ListMethods = "system.listMethods";

    private const string AsyncPrefix = "Async.";

    /// <summary>The message an Async.X call runs (X); other names as they are.</summary>
    public static string Unprefixed(string method)
        => method.StartsWith(AsyncPrefix, StringComparison.Ordinal) ? method[AsyncPrefix.Length..] : method;

    /// <param name="aborted">The caller went away: a hung call stops waiting.</param>
    public async Task<object?> DispatchAsync(
        string method, IReadOnlyList<object?> parameters, string hostRef, CancellationToken aborted = default)
    {
        if (pool.Faults.CallLatency > TimeSpan.Zero)
        {
            await Task.Delay(pool.Faults.CallLatency).ConfigureAwait(false);
        }

        switch (method)
        {
            case ListMethods:
                return pool.Methods.Names.Order(StringComparer.Ordinal).Select(n => (object?)n).ToList();
            case "session.login_with_password":
                await InjectAsync(method, null, aborted).ConfigureAwait(false);
                return Login(parameters, hostRef);
            case "session.logout":
                if (parameters.Count > 0 && parameters[0] is string s)
                {
                    pool.Sessions.Close(s);
                }

                return "";
        }

        var isAsync = method.StartsWith(AsyncPrefix, StringComparison.Ordinal);
        var name = Unprefixed(method);
        if (!pool.Methods.TryGet(name, out var spec))
        {
            throw new XapiException("MESSAGE_METHOD_UNKNOWN", method);
        }

        pool.Stats.Call(name);

        var session = parameters.Count > 0 ? parameters[0] as string : null;
        if (pool.Faults.TakeSessionInvalid())
        {
            pool.Sessions.InvalidateAll();
        }

        pool.Sessions.Check(session);
        var args = new Args(parameters.Skip(1).ToList());
        if (args.Count < spec.Required || args.Count > spec.Required + spec.Optional)
        {
            throw new XapiException("MESSAGE_PARAMETER_COUNT_MISMATCH", method, spec.Required.ToString(), args.Count.ToString());
        }

        if (isAsync)
        {
            return StartAsync(spec, method, args, session!, hostRef);
        }

        await InjectAsync(name, null, aborted).ConfigureAwait(false);
        var call = new Call(pool, name, args, session, hostRef);
        var serving = Stopwatch.GetTimestamp();
        pool.Stats.Serving();
        try
        {
            return await RunAsync(spec, call).ConfigureAwait(false);
        }
        finally
        {
            Done(call, serving);
        }
    }

    private string StartAsync(MethodSpec spec, string method, Args args, string session, string hostRef)
    {
        if (!spec.AsyncCapable)
        {
            throw new XapiException("Fault", $"No async mode for this operation (rpc: {method})");
        }

        XapiObject task;
        lock (pool.Db.Sync)
        {
            task = Tasks.Create(pool.Db, method, "", hostRef);
        }

        _ = Task.Run(async () =>
        {
            var call = new Call(pool, spec.Name, args, session, hostRef) { Task = task };
            var serving = Stopwatch.GetTimestamp();
            pool.Stats.Serving();
            try
            {
                await InjectAsync(spec.Name, task, CancellationToken.None).ConfigureAwait(false);
                var result = await RunAsync(spec, call).ConfigureAwait(false);
                Tasks.Complete(pool.Db, task, result);
            }
            catch (XapiException e)
            {
                Tasks.Fail(pool.Db, task, e);
            }
            catch (Exception e)
            {
                Tasks.Fail(pool.Db, task, new XapiException("INTERNAL_ERROR", e.Message));
            }
            finally
            {
                Done(call, serving);
            }
        });
        return task.Ref;
    }

    /// <summary>failCalls: the rule's error instead of the call. hangCalls: no completion until the task is
    /// cancelled (TASK_CANCELLED, so it ends "cancelled"), the caller goes away or the faults are cleared (then
    /// the call fails). Either way the handler never runs, so nothing is done.</summary>
    private async Task InjectAsync(string name, XapiObject? task, CancellationToken aborted)
    {
        if (pool.Faults.TakeCallFailure(name) is { } failure)
        {
            throw new XapiException(failure.Code, [.. failure.Params ?? []]);
        }

        if (!pool.Faults.Hangs(name) && !pool.Faults.PastHangPoint())
        {
            return;
        }

        var signals = pool.TaskSignals;
        try
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, task is null ? default : signals.Token(task.Ref));

            // A cancel that came before the token existed only changed the status.
            if (Tasks.IsCancelling(pool.Db, task))
            {
                throw new XapiException(Tasks.Cancelled, task!.Ref);
            }

            await pool.Faults.HangAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (task is not null && !aborted.IsCancellationRequested)
        {
            throw new XapiException(Tasks.Cancelled, task.Ref);
        }
        finally
        {
            if (task is not null)
            {
                signals.Forget(task.Ref);
            }
        }

        throw new XapiException("INTERNAL_ERROR", $"{name}: a hung call released by clearing the faults");
    }

    private static async Task<object?> RunAsync(MethodSpec spec, Call call)
    {
        if (spec.AsyncHandler is not null)
        {
            return await spec.AsyncHandler(call).ConfigureAwait(false);
        }

        var asked = Stopwatch.GetTimestamp();
        lock (call.Db.Sync)
        {
            call.Waited += Stopwatch.GetElapsedTime(asked);
            return spec.Handler!(call);
        }
    }

    /// <summary>A served call's state saved and its time counted: its waits (a long poll's, the database lock another call
    /// held) apart from its work.</summary>
    private void Done(Call call, long serving)
    {
        call.Waited += pool.SaveIfDirty();
        pool.Stats.Idle();
        var total = Stopwatch.GetElapsedTime(serving);
        pool.Stats.Served(call.Method, total - call.Waited, call.Waited);
    }

    private string Login(IReadOnlyList<object?> parameters, string hostRef)
    {
        if (parameters.Count is < 2 or > 4)
        {
            throw new XapiException("MESSAGE_PARAMETER_COUNT_MISMATCH", "session.login_with_password", "2", parameters.Count.ToString());
        }

        lock (pool.Db.Sync)
        {
            var master = pool.Master;
            if (master.Ref != hostRef)
            {
                throw new XapiException("HOST_IS_SLAVE", master.Str("address"));
            }
        }

        var user = parameters[0] as string ?? "";
        if (user != pool.Options.User || (parameters[1] as string) != pool.Options.Password)
        {
            throw new XapiException("SESSION_AUTHENTICATION_FAILED", user, "Authentication failure");
        }

        return pool.Sessions.Open(user);
    }
}
