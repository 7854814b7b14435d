using System.Text;
using XcrCluster.Xapi;
using XcrCluster.XapiSim.Model;
using XcrCluster.XapiSim.Rpc;

namespace XcrCluster.XapiSim.Http;

/// <summary>
/// What XAPI's HTTP data-path handlers share: credentials from session_id (query or cookie) or Basic auth
/// (a temporary login), the caller's task (task_id) or an internal one, the VDI by ref or uuid, and XAPI's
/// answers: 401 with a Basic challenge, 404 for a bad format, the task failed with the error either way.
/// </summary>
internal sealed class HttpTransfer : IDisposable
{
    private readonly SimServer server;
    private readonly string? temporarySession;

    private HttpTransfer(SimServer server, HttpContext context, XapiObject task, bool callerTask, string? temporarySession)
    {
        this.server = server;
        Context = context;
        Task = task;
        CallerTask = callerTask;
        this.temporarySession = temporarySession;
    }

    public HttpContext Context { get; }

    public XapiObject Task { get; }

    /// <summary>True when the client named the task (task_id): it owns it and destroys it.</summary>
    public bool CallerTask { get; }

    public SimPool Pool => server.Pool;

    public SimServer Server => server;

    public string Query(string name) => Context.Request.Query[name].ToString();

    /// <summary>Authenticates and binds the task; on failure it has already answered and returns null.</summary>
    public static async Task<HttpTransfer?> BeginAsync(SimServer server, HttpContext context, string endpoint, string label)
    {
        var pool = server.Pool;
        pool.Stats.Request(endpoint, context.Request.Headers.UserAgent.ToString());
        var query = context.Request.Query;
        var taskId = query["task_id"].ToString();
        XapiObject? callerTask = null;
        lock (pool.Db.Sync)
        {
            if (taskId.Length > 0 && pool.Db.TryGet(taskId, out var row) && row.Schema == Schemas.Task)
            {
                callerTask = row;
            }
        }

        var session = query["session_id"].ToString() is { Length: > 0 } s ? s : context.Request.Cookies["session_id"];
        string? temporary = null;
        if (!pool.Sessions.IsValid(session) && TryBasicLogin(pool, context) is { } basic)
        {
            session = temporary = basic;
        }

        if (!pool.Sessions.IsValid(session))
        {
            if (callerTask is not null)
            {
                Tasks.Fail(pool.Db, callerTask, new XapiException("SESSION_AUTHENTICATION_FAILED", "", "Authentication failure"));
            }

            await UnauthorisedAsync(context, pool.Options.PoolName);
            return null;
        }

        XapiObject task;
        lock (pool.Db.Sync)
        {
            task = callerTask ?? Tasks.Create(pool.Db, label, "", server.HostOf(context));
        }

        context.Response.Headers["task-id"] = task.Ref;
        context.Response.Headers.CacheControl = "no-cache, no-store";
        return new HttpTransfer(server, context, task, callerTask is not null, temporary);
    }

    /// <summary>The VDI named by ?vdi= (or another parameter), or HANDLE_INVALID.</summary>
    public XapiObject Vdi(string parameter = "vdi")
    {
        lock (Pool.Db.Sync)
        {
            return Pool.Db.GetByRefOrUuid(Schemas.Vdi, Query(parameter));
        }
    }

    /// <summary>raw (the default) or vhd, case-insensitive; anything else is "Unknown format".</summary>
    public string Format()
    {
        var format = Query("format").ToLowerInvariant();
        return format switch
        {
            "" or "raw" => "raw",
            "vhd" => "vhd",
            _ => throw new XapiException("INTERNAL_ERROR", $"Unknown format {Query("format")}"),
        };
    }

    /// <summary>Fails the task and, if nothing was sent yet, answers 404 with the error text as XAPI does.</summary>
    public async Task FailAsync(XapiException error)
    {
        Tasks.Fail(Pool.Db, Task, error);
        if (!Context.Response.HasStarted)
        {
            Context.Response.StatusCode = StatusCodes.Status404NotFound;
            Context.Response.Headers.Connection = "close";
            Context.Response.Headers.ContentType = "text/html";
            await Context.Response.Body.WriteAsync(
                Encoding.UTF8.GetBytes("<html><body><h1>HTTP 404 not found</h1>"
                    + $"{System.Net.WebUtility.HtmlEncode(string.Join(" ", error.Description))}</body></html>"));
        }
    }

    public void Complete(object? result) => Tasks.Complete(Pool.Db, Task, result);

    public bool IsCancelling => Tasks.IsCancelling(Pool.Db, Task);

    public void SetProgress(double progress) => Tasks.SetProgress(Pool.Db, Task, progress);

    public void Dispose()
    {
        if (!CallerTask)
        {
            lock (Pool.Db.Sync)
            {
                if (Pool.Db.TryGet(Task.Ref, out _) && Task.Str("status") != "pending")
                {
                    Pool.Db.Delete(Task);
                }
            }
        }

        if (temporarySession is not null)
        {
            Pool.Sessions.Close(temporarySession);
        }
    }

    private static string? TryBasicLogin(SimPool pool, HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
        }
        catch (FormatException)
        {
            return null;
        }

        var colon = decoded.IndexOf(':');
        return colon > 0 && decoded[..colon] == pool.Options.User && decoded[(colon + 1)..] == pool.Options.Password
            ? pool.Sessions.Open(decoded[..colon])
            : null;
    }

    /// <summary>XAPI's http_svr response_unauthorised: 401, a Basic challenge, text/html, connection close.</summary>
    private static async Task UnauthorisedAsync(HttpContext context, string realm)
    {
        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = $"Basic realm=\"{realm}\"";
        context.Response.Headers.ContentType = "text/html";
        context.Response.Headers.Connection = "close";
        await context.Response.Body.WriteAsync("<html><body><h1>HTTP 401 unauthorised</h1>Authorisation failed</body></html>"u8.ToArray());
    }
}
