using XcrCluster.XapiSim.Model;

namespace XcrCluster.XapiSim.Rpc;

/// <summary>Every message the simulator serves, keyed by wire name ("VM.snapshot").</summary>
public sealed class MethodTable
{
    private readonly Dictionary<string, MethodSpec> methods = new(StringComparer.Ordinal);

    public MethodTable()
    {
        foreach (var schema in Schemas.All)
        {
            GenericMethods.Register(this, schema);
        }
    }

    public IEnumerable<string> Names => methods.Keys;

    public void Add(MethodSpec spec) => methods[spec.Name] = spec;

    public void Add(string name, int required, Func<Call, object?> handler, int optional = 0)
        => Add(new MethodSpec(name, required, optional, handler));

    public void AddAsync(string name, int required, Func<Call, Task<object?>> handler, int optional = 0)
        => Add(new MethodSpec(name, required, optional, AsyncHandler: handler));

    public bool TryGet(string name, out MethodSpec spec) => methods.TryGetValue(name, out spec!);
}
