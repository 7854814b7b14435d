using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace XcrCluster.Domain.Notify;

/// <summary>What a notice says to the outside: the webhook's JSON payload, and the email's subject and plain-text summary.
/// Pure.</summary>
public static class NoticeText
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>{event, at, delivery, cluster, node, ...the notice's own fields (camelCase)}.</summary>
    public static string Payload(INotice notice, string deliveryId, string cluster, string node)
    {
        var payload = new JsonObject
        {
            ["event"] = notice.Kind, ["at"] = notice.At, ["delivery"] = deliveryId, ["cluster"] = cluster, ["node"] = node,
        };
        foreach (var (name, value) in JsonSerializer.SerializeToNode(notice, notice.GetType(), Json)!.AsObject())
        {
            if (name is not ("kind" or "at"))
            {
                payload[name] = value?.DeepClone();
            }
        }

        return payload.ToJsonString(Json);
    }

    public static string Subject(INotice notice) => "[xcr] " + notice switch
    {
        RunEndedNotice r => $"run of job {r.JobName}: {r.Outcome} ({Failed(r)})",
        RpoViolated v => $"RPO violated: VM {v.VmName} of job {v.JobName} (lag {Lag(v.LagSeconds)}, target {Lag(v.TargetSeconds)})",
        RpoRecovered v => $"RPO recovered: VM {v.VmName} of job {v.JobName} (lag {Lag(v.LagSeconds)}, target {Lag(v.TargetSeconds)})",
        NodeDown d => $"node down: {d.Address} ({d.Reason})",
        NodeUp u => $"node up: {u.Address}",
        _ => $"{notice.Kind} notification",
    };

    /// <summary>A readable summary: what happened, when, and for a run one line per VM.</summary>
    public static string Body(INotice notice, string cluster, string node)
    {
        var text = new StringBuilder();
        text.AppendLine(Subject(notice)[6..]).AppendLine();
        switch (notice)
        {
            case RunEndedNotice r:
                text.AppendLine(CultureInfo.InvariantCulture, $"Job:     {r.JobName} ({r.JobId})")
                    .AppendLine(CultureInfo.InvariantCulture, $"Run:     {r.RunId} ({r.Trigger})")
                    .AppendLine(CultureInfo.InvariantCulture, $"Started: {r.Started:u}")
                    .AppendLine(CultureInfo.InvariantCulture, $"Ended:   {r.At:u}")
                    .AppendLine(CultureInfo.InvariantCulture, $"Outcome: {r.Outcome}").AppendLine().AppendLine("VMs:");
                foreach (var vm in r.Vms)
                {
                    var name = vm.VmName == vm.Vm ? vm.Vm : $"{vm.VmName} ({vm.Vm})";
                    text.AppendLine(CultureInfo.InvariantCulture,
                        $"  {vm.Status,-11} {name}, {Bytes(vm.Bytes)} sent{(vm.Error is { } e ? $": {e}" : "")}");
                }

                break;
            case RpoViolated or RpoRecovered:
                text.AppendLine("The lag is the time since the newest restore point's snapshot.");
                break;
            case NodeDown d:
                text.AppendLine(CultureInfo.InvariantCulture, $"Roles: {string.Join(", ", d.Roles)}");
                break;
            case NodeUp u:
                text.AppendLine(CultureInfo.InvariantCulture, $"Roles: {string.Join(", ", u.Roles)}");
                break;
            default:
                text.AppendLine("A test of this notification target: it works.");
                break;
        }

        text.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"At {notice.At:u}, cluster {cluster}, seen by {node}.");
        return text.ToString();
    }

    private static string Failed(RunEndedNotice r)
    {
        var failed = r.Vms.Count(v => v.Status is not ("success" or "skipped"));
        return failed == 0 ? $"{r.Vms.Count} VM{(r.Vms.Count == 1 ? "" : "s")}" : $"{failed} of {r.Vms.Count} VMs failed";
    }

    private static string Bytes(long bytes) => bytes switch
    {
        < 1L << 20 => $"{bytes / 1024.0:0.#} KiB",
        < 1L << 30 => $"{bytes / (double)(1L << 20):0.#} MiB",
        _ => $"{bytes / (double)(1L << 30):0.##} GiB",
    };

    private static string Lag(double? seconds) => seconds switch
    {
        null => "no restore point yet",
        < 120 => $"{seconds:0} s",
        < 7200 => $"{seconds / 60:0} min",
        _ => $"{seconds / 3600:0.#} h",
    };
}
