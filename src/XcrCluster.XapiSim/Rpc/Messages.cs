namespace XcrCluster.XapiSim.Rpc;

/// <summary>All class-specific messages (the generic accessors are registered per schema).</summary>
public static class Messages
{
    public static void Register(MethodTable table, XapiVersion version)
    {
        VmMessages.Register(table, version);
        VmSettingMessages.Register(table);
        VtpmMessages.Register(table);
        VdiMessages.Register(table);
        DeviceMessages.Register(table);
    }
}
