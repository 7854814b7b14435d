using XcrCluster.Xapi;
using XcrCluster.XapiSim.Model;

namespace XcrCluster.XapiSim.Rpc;

/// <summary>The accessors XAPI generates for every class: get_all_records, get_all, get_record, get_by_uuid,
/// get_/set_ per field, add_to_/remove_from_ per map, add_/remove_ per set.</summary>
internal static class GenericMethods
{
    public static void Register(MethodTable table, ClassSchema schema)
    {
        var c = schema.Name;
        table.Add(new MethodSpec($"{c}.get_all_records", 0, Handler: call => call.Db.All(schema).ToDictionary(r => r.Ref, r => (object?)call.Db.Record(r)), AsyncCapable: false));
        table.Add(new MethodSpec($"{c}.get_all", 0, Handler: call => call.Db.All(schema).Select(r => (object?)r.Ref).ToList(), AsyncCapable: false));
        table.Add(new MethodSpec($"{c}.get_record", 1, Handler: call => call.Db.Record(call.Get(schema, 0)), AsyncCapable: false));
        table.Add(new MethodSpec($"{c}.get_by_uuid", 1, Handler: call => call.Db.GetByUuid(schema, call.Args.String(0)).Ref, AsyncCapable: false));
        if (schema.ByName.ContainsKey("name_label"))
        {
            table.Add(new MethodSpec($"{c}.get_by_name_label", 1, Handler: call => call.Db.Where(schema, "name_label", call.Args.String(0)).Select(r => (object?)r.Ref).ToList(), AsyncCapable: false));
        }

        foreach (var field in schema.Fields)
        {
            table.Add(new MethodSpec($"{c}.get_{field.Name}", 1, Handler: call => call.Db.FieldValue(call.Get(schema, 0), field), AsyncCapable: false));
            if (field.IsComputed || field.Name == "uuid")
            {
                continue;
            }

            table.Add(new MethodSpec($"{c}.set_{field.Name}", 2, Handler: call =>
            {
                call.Db.Set(call.Get(schema, 0), field.Name, call.Args[1]);
                return "";
            }));
            if (field.Kind == FieldKind.Map)
            {
                table.Add(new MethodSpec($"{c}.add_to_{field.Name}", 3, Handler: call => AddToMap(call, schema, field)));
                table.Add(new MethodSpec($"{c}.remove_from_{field.Name}", 2, Handler: call => RemoveFromMap(call, schema, field)));
            }
            else if (field.Kind == FieldKind.Set)
            {
                table.Add(new MethodSpec($"{c}.add_{field.Name}", 2, Handler: call => ChangeSet(call, schema, field, add: true)));
                table.Add(new MethodSpec($"{c}.remove_{field.Name}", 2, Handler: call => ChangeSet(call, schema, field, add: false)));
            }
        }
    }

    private static object? AddToMap(Call call, ClassSchema schema, FieldSpec field)
    {
        var row = call.Get(schema, 0);
        var key = call.Args.String(1);
        var map = row.Map(field.Name);
        if (map.ContainsKey(key))
        {
            throw new XapiException("MAP_DUPLICATE_KEY", schema.Name, field.Name, row.Ref, key);
        }

        map[key] = call.Args[2]?.ToString() ?? "";
        call.Db.Touch(row);
        return "";
    }

    private static object? RemoveFromMap(Call call, ClassSchema schema, FieldSpec field)
    {
        var row = call.Get(schema, 0);
        if (row.Map(field.Name).Remove(call.Args.String(1)))
        {
            call.Db.Touch(row);
        }

        return "";
    }

    private static object? ChangeSet(Call call, ClassSchema schema, FieldSpec field, bool add)
    {
        var row = call.Get(schema, 0);
        var set = row.Set(field.Name);
        var value = call.Args[1];
        var changed = add ? !set.Contains(value) : set.Remove(value);
        if (changed)
        {
            if (add)
            {
                set.Add(value);
            }

            call.Db.Touch(row);
        }

        return "";
    }
}
