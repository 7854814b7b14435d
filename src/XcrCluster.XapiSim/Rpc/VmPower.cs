using XcrCluster.Xapi;
using XcrCluster.XapiSim.Model;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.XapiSim.Rpc;

/// <summary>VM power: start (honouring blocked_operations and templates) with guest metrics a health check can wait
/// on, clean and hard shutdown; devices attached while the VM runs.</summary>
internal static class VmPower
{
    public static object? Start(Call call)
    {
        var vm = call.Get(Schemas.Vm, 0);
        VmMessages.CheckNotBlocked(vm, "start");
        if (vm.Bool("is_a_template"))
        {
            throw new XapiException("VM_IS_TEMPLATE", vm.Ref);
        }

        if (vm.Str("power_state") != "Halted")
        {
            throw new XapiException("VM_BAD_POWER_STATE", vm.Ref, "halted", vm.Str("power_state").ToLowerInvariant());
        }

        var paused = call.Args.Bool(1);
        SetPower(call, vm, paused ? "Paused" : "Running", attached: true);
        if (!call.Pool.Faults.NoGuestAgent)
        {
            call.Db.Set(vm, "guest_metrics", CreateGuestMetrics(call.Db).Ref);
        }

        return "";
    }

    /// <summary>What a started guest with PV drivers reports, so health checks can wait on it.</summary>
    public static XapiObject CreateGuestMetrics(XapiDatabase db) => db.Create(Schemas.GuestMetrics, new Dictionary<string, object?>
    {
        ["os_version"] = new Dictionary<string, object?> { ["name"] = "Simulated Linux", ["distro"] = "sim" },
        ["PV_drivers_version"] = new Dictionary<string, object?> { ["major"] = "8", ["minor"] = "3", ["micro"] = "0" },
        ["PV_drivers_up_to_date"] = true,
        ["PV_drivers_detected"] = true,
        ["live"] = true,
        ["last_updated"] = DateTime.UtcNow,
        ["can_use_hotplug_vbd"] = "yes",
        ["can_use_hotplug_vif"] = "yes",
    });

    public static object? Shutdown(Call call, string operation)
    {
        var vm = call.Get(Schemas.Vm, 0);
        VmMessages.CheckNotBlocked(vm, operation);
        if (vm.Str("power_state") == "Halted")
        {
            throw new XapiException("VM_BAD_POWER_STATE", vm.Ref, "running", "halted");
        }

        SetPower(call, vm, "Halted", attached: false);
        DropGuestMetrics(call, vm);
        return "";
    }

    private static void SetPower(Call call, XapiObject vm, string state, bool attached)
    {
        vm.Fields["power_state"] = state;
        vm.Fields["resident_on"] = attached ? call.HostRef : XapiValue.NullRef;
        vm.Fields["domid"] = attached ? (long)Random.Shared.Next(1, 1000) : -1L;
        call.Db.Touch(vm);
        foreach (var device in call.Db.Where(Schemas.Vbd, "VM", vm.Ref).Concat(call.Db.Where(Schemas.Vif, "VM", vm.Ref)))
        {
            call.Db.Set(device, "currently_attached", attached);
        }
    }

    public static void DropGuestMetrics(Call call, XapiObject vm)
    {
        if (call.Db.TryGet(vm.Str("guest_metrics"), out var metrics))
        {
            call.Db.Delete(metrics);
        }

        if (call.Db.TryGet(vm.Ref, out _))
        {
            call.Db.Set(vm, "guest_metrics", XapiValue.NullRef);
        }
    }
}
