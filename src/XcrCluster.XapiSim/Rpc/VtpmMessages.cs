using XcrCluster.Xapi;
using XcrCluster.XapiSim.Model;

namespace XcrCluster.XapiSim.Rpc;

/// <summary>VTPM.create, destroy and contents as ocaml/xapi/xapi_vtpm.ml has them, and the copy VM.snapshot, clone and
/// copy make (<c>copy</c> there: the contents of a unique vTPM are never copied).</summary>
internal static class VtpmMessages
{
    public static void Register(MethodTable table)
    {
        table.Add("VTPM.create", 2, call =>
        {
            var vm = call.Get(Schemas.Vm, 0);
            if (call.Db.PoolRow().MapValue("restrictions", "restrict_vtpm") != "false")
            {
                throw new XapiException("FEATURE_RESTRICTED", "restrict_vtpm");
            }

            var existing = call.Db.Where(Schemas.Vtpm, "VM", vm.Ref).Count();
            if (existing > 0)
            {
                throw new XapiException("VTPM_MAX_AMOUNT_REACHED", $"{existing}");
            }

            AssertHalted(vm);
            return call.Db.Create(Schemas.Vtpm, new Dictionary<string, object?>
            {
                ["VM"] = vm.Ref, ["is_unique"] = call.Args.Bool(1), ["contents"] = "",
            }).Ref;
        });
        table.Add("VTPM.destroy", 1, call =>
        {
            var vtpm = call.Get(Schemas.Vtpm, 0);
            AssertHalted(call.Db.Get(Schemas.Vm, vtpm.Str("VM")));
            call.Db.Delete(vtpm);
            return "";
        });
        table.Add("VTPM.set_contents", 2, call =>
        {
            var vtpm = call.Get(Schemas.Vtpm, 0);
            var contents = call.Args.String(1);
            try
            {
                Convert.FromBase64String(contents); // XAPI verifies the contents are base64 already
            }
            catch (FormatException e)
            {
                throw new XapiException("INTERNAL_ERROR", e.Message);
            }

            call.Db.Set(vtpm, "contents", contents);
            return "";
        });
    }

    /// <summary>The new VM's vTPMs, as <c>copy</c> in xapi_vtpm.ml makes them.</summary>
    public static void Copy(XapiDatabase db, XapiObject from, XapiObject to)
    {
        foreach (var vtpm in db.Where(Schemas.Vtpm, "VM", from.Ref).ToList())
        {
            db.Create(Schemas.Vtpm, new Dictionary<string, object?>
            {
                ["VM"] = to.Ref, ["is_unique"] = vtpm.Bool("is_unique"), ["persistence_backend"] = vtpm.Str("persistence_backend"),
                ["contents"] = vtpm.Bool("is_unique") ? "" : vtpm.Str("contents"),
            });
        }
    }

    private static void AssertHalted(XapiObject vm)
    {
        if (vm.Str("power_state") != "Halted")
        {
            throw new XapiException("VM_BAD_POWER_STATE", vm.Ref, "halted", vm.Str("power_state").ToLowerInvariant());
        }
    }

    private static XapiObject PoolRow(this XapiDatabase db) => db.All(Schemas.Pool).First();
}
