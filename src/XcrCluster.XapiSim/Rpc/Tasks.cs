using XcrCluster.Xapi;
using XcrCluster.XapiSim.Model;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.XapiSim.Rpc;

/// <summary>Task rows as XAPI keeps them: pending → success (result is an XML-RPC &lt;value&gt; fragment, even over
/// JSON-RPC) or failure (error_info = [code, params…]) or cancelled.</summary>
public static class Tasks
{
    public const string Cancelled = "TASK_CANCELLED";

    public static XapiObject Create(XapiDatabase db, string label, string description, string hostRef)
        => db.Create(Schemas.Task, new Dictionary<string, object?>
    {
        ["name_label"] = label,
        ["name_description"] = description,
        ["created"] = DateTime.UtcNow,
        ["resident_on"] = hostRef,
        ["allowed_operations"] = new List<object?> { "cancel" },
    });

    public static void Register(MethodTable table)
    {
        table.Add("task.create", 2, call => Create(call.Db, call.Args.String(0), call.Args.String(1), call.HostRef).Ref);
        table.Add("task.cancel", 1, call =>
        {
            var task = call.Get(Schemas.Task, 0);
            if (task.Str("status") == "pending")
            {
                call.Db.Set(task, "status", "cancelling");
                call.Pool.TaskSignals.Cancel(task.Ref);
            }

            return "";
        });
        table.Add("task.destroy", 1, call =>
        {
            var task = call.Get(Schemas.Task, 0);
            if (task.Str("status") is "pending" or "cancelling")
            {
                // XAPI only marks the destroy; the row goes when the task completes.
                task.Map("current_operations")["destroy"] = "destroy";
                call.Db.Touch(task);
            }
            else
            {
                call.Db.Delete(task);
            }

            return "";
        });
    }

    public static bool IsCancelling(XapiDatabase db, XapiObject? task)
    {
        lock (db.Sync)
        {
            return task is not null && task.Str("status") == "cancelling";
        }
    }

    public static void Complete(XapiDatabase db, XapiObject task, object? result)
    {
        lock (db.Sync)
        {
            task.Fields["status"] = "success";
            task.Fields["progress"] = 1.0;
            task.Fields["finished"] = DateTime.UtcNow;
            task.Fields["result"] = result is null or "" ? "" : XmlRpc.EncodeValue(result);
            Settle(db, task);
        }
    }

    public static void Fail(XapiDatabase db, XapiObject task, XapiException error)
    {
        lock (db.Sync)
        {
            task.Fields["status"] = error.Code == Cancelled ? "cancelled" : "failure";
            task.Fields["finished"] = DateTime.UtcNow;
            task.Fields["error_info"] = error.Description.Select(p => (object?)p).ToList();
            Settle(db, task);
        }
    }

    public static void SetProgress(XapiDatabase db, XapiObject task, double progress)
    {
        lock (db.Sync)
        {
            if (db.TryGet(task.Ref, out _))
            {
                task.Fields["progress"] = Math.Clamp(progress, 0, 1);
                db.Touch(task);
            }
        }
    }

    private static void Settle(XapiDatabase db, XapiObject task)
    {
        task.Fields["allowed_operations"] = new List<object?>();
        if (task.Map("current_operations").ContainsKey("destroy"))
        {
            db.Delete(task);
        }
        else
        {
            db.Touch(task);
        }
    }
}
