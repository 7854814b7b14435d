using XcrCluster.Xapi;
using XcrCluster.XapiSim.Model;

namespace XcrCluster.XapiSim.Rpc;

/// <summary>
/// Routes a decoded call the way XAPI's server does: system.listMethods and session.login_with_password need
/// no session; everything else checks the session, the method name and the parameter count; Async.* starts a
/// task and returns its ref at once.
/// </summary>
public sealed class Dispatcher(SimPool pool)
{
    public const string ListMethods = "system.listMethods";

    public async Task<object?> DispatchAsync(string method, IReadOnlyList<object?> parameters, string hostRef)
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
                return Login(parameters, hostRef);
            case "session.logout":
                if (parameters.Count > 0 && parameters[0] is string s)
                {
                    pool.Sessions.Close(s);
                }

                return "";
        }

        var isAsync = method.StartsWith("Async.", StringComparison.Ordinal);
        var name = isAsync ? method["Async.".Length..] : method;
        if (!pool.Methods.TryGet(name, out var spec))
        {
            throw new XapiException("MESSAGE_METHOD_UNKNOWN", method);
        }

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

        try
        {
            return await RunAsync(spec, new Call(pool, name, args, session, hostRef)).ConfigureAwait(false);
        }
        finally
        {
            pool.SaveIfDirty();
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
            try
            {
                var result = await RunAsync(spec, new Call(pool, spec.Name, args, session, hostRef) { Task = task }).ConfigureAwait(false);
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
                pool.SaveIfDirty();
            }
        });
        return task.Ref;
    }

    private static async Task<object?> RunAsync(MethodSpec spec, Call call)
    {
        if (spec.AsyncHandler is not null)
        {
            return await spec.AsyncHandler(call).ConfigureAwait(false);
        }

        lock (call.Db.Sync)
        {
            return spec.Handler!(call);
        }
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
