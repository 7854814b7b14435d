using System.Globalization;
using System.Text.RegularExpressions;

namespace XcrCluster.Replication.Recovery;

/// <summary>
/// What names a VM a failover-test clone: its name, given by the VM.clone call that creates it, ends with
/// <c>[xcr failover test of &lt;source VM uuid&gt; until &lt;time&gt;]</c>. The mark is atomic with creation (no window in which
/// the clone exists unmarked) and, unlike a key set on the restore point for the length of the call, never rides along on a
/// clone or copy someone else makes of the restore point meanwhile; the restore point itself is not touched. A test ends by
/// destroying its clone; a clone still there after its time (the test's node died) is an orphan, which the next replication
/// run of that VM halts and destroys (<see cref="TargetLeftovers"/>). Before that time the clone may be a test still running,
/// so it is left alone. The name must end with the mark: a copy someone makes of the clone ("…_COPY") is not ours.
/// </summary>
public static partial class FailoverTestMark
{
    private const string TimeFormat = "yyyyMMdd'T'HHmmss'Z'";

    /// <summary>The clone's name: the replica's (or restore point's) and the mark.</summary>
    public static string Name(string baseName, string vmUuid, DateTimeOffset until)
        => $"{baseName} [xcr failover test of {vmUuid} until {until.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture)}]";

    /// <summary>The source VM and the time after which the clone is an orphan, when the name carries the mark.</summary>
    public static (string Vm, DateTimeOffset Until)? Read(string name)
        => Mark().Match(name) is { Success: true } m && DateTimeOffset.TryParseExact(m.Groups["until"].Value, TimeFormat,
            CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var until)
            ? (m.Groups["vm"].Value, until)
            : null;

    /// <summary>A failover-test clone of <paramref name="vmUuid"/> whose test is over by <paramref name="now"/>.</summary>
    public static bool IsOrphanOf(string name, string vmUuid, DateTimeOffset now)
        => Read(name) is { } mark && mark.Vm == vmUuid && mark.Until < now;

    [GeneratedRegex(@" \[xcr failover test of (?<vm>[0-9a-fA-F-]{36}) until (?<until>\d{8}T\d{6}Z)\]\z", RegexOptions.CultureInvariant)]
    private static partial Regex Mark();
}
