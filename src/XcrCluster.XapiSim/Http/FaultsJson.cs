using System.Text.Json;

namespace XcrCluster.XapiSim.Http;

/// <summary>The /sim/faults JSON: every fault by its JSON name (GET), and a partial object applied field by
/// field (POST). A rule list given replaces the pending one and its counts start then.</summary>
internal static class FaultsJson
{
    public static object Of(Faults f) => new
    {
        exportBytesPerSecond = f.ExportBytesPerSecond,
        importBytesPerSecond = f.ImportBytesPerSecond,
        resetExportAfterBytes = f.ResetExportAfterBytes,
        resetImportAfterBytes = f.ResetImportAfterBytes,
        srFull = f.SrFull,
        callLatencyMs = (long)f.CallLatency.TotalMilliseconds,
        redirectExports = f.RedirectExports,
        disableJsonRpc = f.DisableJsonRpc,
        chunkedExports = f.ChunkedExports,
        noGuestAgent = f.NoGuestAgent,
        failCalls = f.FailCalls.Select(r => new { method = r.Method, nth = r.Nth, code = r.Code, @params = r.Params ?? [] }),
        hangCalls = f.HangCalls.Order(StringComparer.Ordinal),
        hangAfterCalls = f.HangAfterCalls,
        malformedReplies = f.MalformedReplies.Select(r => new { method = r.Method, nth = r.Nth }),
        closeExportAfterBytes = f.CloseExportAfterBytes,
        failExportTask = f.FailExportTask,
        exportStatus500 = f.ExportStatus500,
        cancelExportAfterBytes = f.CancelExportAfterBytes,
        failDeltaExports = f.FailDeltaExports,
    };

    /// <summary>Applies the fields present in the object; returns an error naming the first bad field.</summary>
    public static string? Apply(Faults f, JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            return "expected a JSON object";
        }

        foreach (var p in body.EnumerateObject())
        {
            try
            {
                if (!ApplyOne(f, p))
                {
                    return $"unknown fault \"{p.Name}\"";
                }
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException)
            {
                return $"{p.Name}: {(e is InvalidOperationException ? "wrong type" : e.Message)}";
            }
        }

        return null;
    }

    private static bool ApplyOne(Faults f, JsonProperty p)
    {
        switch (p.Name)
        {
            case "exportBytesPerSecond": f.ExportBytesPerSecond = NonNegative(p); break;
            case "importBytesPerSecond": f.ImportBytesPerSecond = NonNegative(p); break;
            case "resetExportAfterBytes": f.ResetExportAfterBytes = NonNegative(p); break;
            case "resetImportAfterBytes": f.ResetImportAfterBytes = NonNegative(p); break;
            case "srFull": f.SrFull = p.Value.GetBoolean(); break;
            case "callLatencyMs": f.CallLatency = TimeSpan.FromMilliseconds(NonNegative(p)); break;
            case "redirectExports": f.RedirectExports = p.Value.GetBoolean(); break;
            case "disableJsonRpc": f.DisableJsonRpc = p.Value.GetBoolean(); break;
            case "chunkedExports": f.ChunkedExports = p.Value.GetBoolean(); break;
            case "noGuestAgent": f.NoGuestAgent = p.Value.GetBoolean(); break;
            case "failCalls": f.SetFailCalls(Array(p.Value).Select(CallFailureOf)); break;
            case "hangCalls": f.HangCalls = Array(p.Value).Select(Method).ToList(); break;
            case "hangAfterCalls": f.HangAfterCalls = NonNegative(p); break;
            case "malformedReplies": f.SetMalformedReplies(Array(p.Value).Select(MalformedReplyOf)); break;
            case "closeExportAfterBytes": f.CloseExportAfterBytes = NonNegative(p); break;
            case "failExportTask": f.FailExportTask = p.Value.GetBoolean(); break;
            case "exportStatus500": f.ExportStatus500 = p.Value.GetBoolean(); break;
            case "cancelExportAfterBytes": f.CancelExportAfterBytes = NonNegative(p); break;
            case "failDeltaExports": f.FailDeltaExports = p.Value.GetBoolean(); break;
            case "sessionInvalidNext":
                if (p.Value.GetBoolean())
                {
                    f.SessionInvalidOnNextCall();
                }

                break;
            default: return false;
        }

        return true;
    }

    private static CallFailure CallFailureOf(JsonElement rule)
    {
        Fields(rule, "method", "nth", "code", "params");
        var parameters = rule.TryGetProperty("params", out var ps) ? Array(ps).Select(v => v.GetString()!).ToList() : [];
        var code = rule.TryGetProperty("code", out var c) ? Method(c) : "INTERNAL_ERROR";
        return new CallFailure(Method(rule.GetProperty("method")), Nth(rule), code, parameters);
    }

    private static MalformedReply MalformedReplyOf(JsonElement rule)
    {
        Fields(rule, "method", "nth");
        return new MalformedReply(Method(rule.GetProperty("method")), Nth(rule));
    }

    /// <summary>A rule must be an object with a method and no field outside <paramref name="known"/>.</summary>
    private static void Fields(JsonElement rule, params string[] known)
    {
        if (rule.ValueKind != JsonValueKind.Object || !rule.TryGetProperty("method", out _))
        {
            throw new FormatException("each rule is an object with a \"method\"");
        }

        foreach (var field in rule.EnumerateObject())
        {
            if (!known.Contains(field.Name))
            {
                throw new FormatException($"unknown rule field \"{field.Name}\"");
            }
        }
    }

    private static int Nth(JsonElement rule)
        => !rule.TryGetProperty("nth", out var n) ? 1
            : n.GetInt32() is var v && v >= 1 ? v : throw new FormatException("nth counts from 1");

    private static string Method(JsonElement value)
        => value.GetString() is { Length: > 0 } s ? s : throw new FormatException("a method name or code cannot be empty");

    private static JsonElement.ArrayEnumerator Array(JsonElement value)
        => value.ValueKind == JsonValueKind.Array ? value.EnumerateArray() : throw new InvalidOperationException();

    private static long NonNegative(JsonProperty p)
        => p.Value.GetInt64() is var v && v >= 0 ? v : throw new InvalidOperationException();
}
