using System.Text.RegularExpressions;

namespace XcrCluster.Replication.Tests;

/// <summary>The replication engine speaks to XAPI only through the typed <see cref="Pool"/> layer: XAPI method names
/// live in the Pool*.cs files, and the raw destroys there are called only by <see cref="RunScope"/> (a run's one
/// destroy gate) and the Pool itself (an operator's purge).</summary>
public sealed partial class TypedXapiTests
{
    /// <summary>A string literal that is an XAPI method name ("VM.set_tags", "VM_guest_metrics.get_PV_drivers_detected").</summary>
    [GeneratedRegex("\"(VM|VM_guest_metrics|VM_metrics|VDI|VBD|VIF|SR|PBD|PIF|task|pool|host|network|session|event|message)"
        + "\\.[A-Za-z_]+\"")]
    private static partial Regex MethodLiteral();

    /// <summary>Any literal passed straight to the client's call or map-entry methods (a method or class name).</summary>
    [GeneratedRegex("\\b(CallAsync|CallTaskAsync|SetMapEntriesAsync|SetMapEntryAsync|SetOtherConfigAsync|SetMapAsync)\\(\\s*\\$?\"")]
    private static partial Regex CallWithLiteral();

    /// <summary>The Pool's raw destroys, which skip the run's checks.</summary>
    [GeneratedRegex("\\.(DestroyVmObjectAsync|DestroyVdiObjectAsync)\\(")]
    private static partial Regex RawDestroy();

    [Fact]
    public void The_engine_holds_no_raw_xapi_method_names()
    {
        var offending = EngineFiles().Where(f => !IsPoolFile(f))
            .SelectMany(f => Matches(f, line => MethodLiteral().IsMatch(line) || CallWithLiteral().IsMatch(line)))
            .ToList();
        Assert.True(offending.Count == 0, "raw XAPI method names outside Pool*.cs (use a typed Pool method):\n"
            + string.Join('\n', offending));
    }

    [Fact]
    public void Only_the_run_scope_calls_the_raw_destroys()
    {
        var offending = EngineFiles().Where(f => !IsPoolFile(f) && Path.GetFileName(f) != "RunScope.cs")
            .SelectMany(f => Matches(f, RawDestroy().IsMatch))
            .ToList();
        Assert.True(offending.Count == 0, "a raw destroy outside RunScope (a run destroys through RunScope):\n"
            + string.Join('\n', offending));
    }

    [Fact]
    public void The_checks_see_the_engine_and_its_pool_layer()
    {
        var files = EngineFiles().Select(Path.GetFileName).ToList();
        Assert.Contains("Pool.cs", files);
        Assert.Contains("RunScope.cs", files);
        Assert.Contains("ReplicaCommit.cs", files);
        var pool = EngineFiles().Where(IsPoolFile).SelectMany(f => Matches(f, MethodLiteral().IsMatch)).ToList();
        Assert.Contains(pool, line => line.Contains("\"VM.destroy\"", StringComparison.Ordinal));
    }

    private static bool IsPoolFile(string file) => Path.GetFileName(file).StartsWith("Pool", StringComparison.Ordinal);

    /// <summary>The engine's sources, found from the test assembly walking up to the solution.</summary>
    private static IReadOnlyList<string> EngineFiles()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "XcrCluster.sln")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        var src = Path.Combine(dir.FullName, "src", "XcrCluster.Replication");
        return Directory.GetFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The code lines (comments left out) that match, as "file:line: text".</summary>
    private static IEnumerable<string> Matches(string file, Func<string, bool> match)
        => File.ReadLines(file).Select((text, i) => (Code: CodeOf(text), Line: i + 1))
            .Where(l => match(l.Code))
            .Select(l => $"{Path.GetFileName(file)}:{l.Line}: {l.Code.Trim()}");

    private static string CodeOf(string line)
    {
        var trimmed = line.TrimStart();
        return trimmed.StartsWith("//", StringComparison.Ordinal) ? "" : line;
    }
}
