using XcrCluster.Xapi.Records;

namespace XcrCluster.Xapi.Mirror;

/// <summary>A class a <see cref="PoolMirror"/> keeps: its XAPI name and how a record (get_all_records' value, or an
/// event's snapshot, which XAPI serialises with the same get_record) becomes its typed record.</summary>
internal sealed record MirroredClass(string Name, Func<string, IReadOnlyDictionary<string, object?>, object> Decode)
{
    /// <summary>What the engine reads whole: the objects of a run (VM, VDI, VBD, VIF), where they live (SR, network, PIF,
    /// host, pool) and the tasks it follows.</summary>
    public static readonly IReadOnlyList<MirroredClass> All =
    [
        Of<VmRecord>(), Of<VdiRecord>(), Of<VbdRecord>(), Of<VifRecord>(), Of<SrRecord>(), Of<NetworkRecord>(),
        Of<PifRecord>(), Of<HostRecord>(), Of<PoolRecord>(), Of<TaskRecord>(),
    ];

    /// <summary>Event classes are lower case ("vm"), class names are not ("VM").</summary>
    public static readonly IReadOnlyDictionary<string, MirroredClass> ByName
        = All.ToDictionary(c => c.Name, StringComparer.OrdinalIgnoreCase);

    public static MirroredClass Of<T>()
        where T : IXapiRecord<T>
        => new(T.ClassName, (@ref, fields) => T.From(@ref, fields));

    public static bool Holds<T>()
        where T : IXapiRecord<T>
        => ByName.ContainsKey(T.ClassName);
}
