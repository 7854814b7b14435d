using XcrCluster.Xapi;
using XcrCluster.XapiSim.Model;
using XcrCluster.XapiSim.Storage;

namespace XcrCluster.XapiSim.Rpc;

internal static class VdiMessages
{
    public static void Register(MethodTable table)
    {
        table.Add("VDI.create", 1, call => Vdis.Create(call.Pool, call.Args.Map(0)).Ref);
        table.Add("VDI.destroy", 1, call =>
        {
            Vdis.Destroy(call.Pool, call.Get(Schemas.Vdi, 0));
            return "";
        });
        table.Add("VDI.snapshot", 1, call => Vdis.Snapshot(call.Pool, Managed(call), isSnapshot: true).Ref, optional: 1);
        table.Add("VDI.clone", 1, call => Vdis.Snapshot(call.Pool, Managed(call), isSnapshot: false).Ref, optional: 1);
        table.Add("VDI.resize", 2, call =>
        {
            Vdis.Resize(call.Pool, call.Get(Schemas.Vdi, 0), call.Args.Long(1));
            return "";
        });
    }

    private static XapiObject Managed(Call call)
    {
        var vdi = call.Get(Schemas.Vdi, 0);
        return vdi.Bool("managed") ? vdi : throw new XapiException("VDI_MISSING", vdi.Str("SR"), vdi.Ref);
    }
}
