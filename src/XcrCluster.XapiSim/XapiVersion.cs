using System.Globalization;

namespace XcrCluster.XapiSim;

/// <summary>The xapi release a simulated pool runs, "MAJOR.MINOR[.PATCH]", compared numerically by component
/// (1.20 &lt; 1.249 &lt; 21.4 &lt; 25.6). XCP-ng/XenServer 8.2 pools run xapi 1.x; 21.x and later are 8.3 and on.</summary>
public sealed record XapiVersion(int Major, int Minor, int Patch = 0) : IComparable<XapiVersion>
{
    /// <summary>VM.snapshot's ignore_vdis: param_release numbered_release "21.4.0" in ocaml/idl/datamodel_vm.ml.</summary>
    public static readonly XapiVersion SnapshotIgnoreVdis = new(21, 4);

    /// <summary>A recent xapi (XCP-ng 8.3 / XenServer 8 line).</summary>
    public const string Current = "25.6";

    public static XapiVersion Parse(string text)
    {
        var parts = text.Split('.');
        var numbers = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out numbers[i]))
            {
                numbers = [];
                break;
            }
        }

        return numbers.Length is 2 or 3
            ? new XapiVersion(numbers[0], numbers[1], numbers.Length == 3 ? numbers[2] : 0)
            : throw new ArgumentException($"xapi version \"{text}\": expected MAJOR.MINOR or MAJOR.MINOR.PATCH (e.g. 1.20 or 25.6)");
    }

    /// <summary>host.software_version's "xapi": MAJOR.MINOR, as xapi_globs.ml `software_version` prints it.</summary>
    public string MajorMinor => $"{Major}.{Minor}";

    /// <summary>API_version_minor (major is 2), from the release table in ocaml/idl/datamodel_types.ml: 15 for
    /// "Citrix Hypervisor 8.2" (the xapi 1.x line), 21 for "XenServer 8" (XCP-ng 8.3).</summary>
    public long ApiVersionMinor => this < SnapshotIgnoreVdis ? 15 : 21;

    /// <summary>software_version's product_version: an 8.2 pool or an 8.3 one.</summary>
    public string ProductVersion => this < SnapshotIgnoreVdis ? "8.2.1" : "8.3.0";

    public int CompareTo(XapiVersion? other)
        => other is null ? 1 : (Major, Minor, Patch).CompareTo((other.Major, other.Minor, other.Patch));

    public static bool operator <(XapiVersion a, XapiVersion b) => a.CompareTo(b) < 0;

    public static bool operator >(XapiVersion a, XapiVersion b) => a.CompareTo(b) > 0;

    public static bool operator <=(XapiVersion a, XapiVersion b) => a.CompareTo(b) <= 0;

    public static bool operator >=(XapiVersion a, XapiVersion b) => a.CompareTo(b) >= 0;

    public override string ToString() => Patch == 0 ? MajorMinor : $"{MajorMinor}.{Patch}";
}
