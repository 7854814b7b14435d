using System.Text.Json.Nodes;

namespace XcrCluster.Cli;

/// <summary>A run's progress as people read it, from the node's run event stream: one row per VM, disk and target SR
/// (a VM without disks yet has a row of its own saying its phase), labelled with names (the uuid only when the node sent
/// no name), laid out so that every row fits the given width. Pure: the live display and the plain lines draw from it.</summary>
public sealed class ProgressBoard(bool unicode = true)
{
    private const int MinBar = 10;
    private const int MaxBar = 40;
    private const double MiB = 1024 * 1024;

    private readonly Dictionary<string, Vm> vms = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Vm, string Disk, string Sr), Lane> lanes = [];
    private readonly string ellipsis = unicode ? "…" : "~";
    private readonly string arrow = unicode ? "→" : "->";

    /// <summary>The VMs' statuses once the end event came, else null.</summary>
    public List<string>? Statuses { get; private set; }

    /// <summary>What ended, one line per VM in the order they ended ("VM uuid: status", as the results keep uuids).</summary>
    public List<string> Ended { get; } = [];

    /// <summary>Takes one event; true when it changed what is shown.</summary>
    public bool Apply(ServerEvent e)
    {
        var d = e.Data;
        switch (e.Name)
        {
            case "progress":
                var vm = VmOf(d);
                if (d["disk"] is not null)
                {
                    var key = ((string)d["vm"]!, (string)d["disk"]!, (string?)d["sr"] ?? "");
                    if (!lanes.TryGetValue(key, out var lane))
                    {
                        lanes[key] = lane = new Lane(vm, Name(d, "diskName", "disk"), Name(d, "srName", "sr"));
                    }

                    (lane.Bytes, lane.Total, lane.Rate, lane.Eta) = ((long)d["bytes"]!, (long)d["total"]!, (double?)d["bytesPerSecond"],
                        (double?)d["etaSeconds"]);
                }
                else if ((string?)d["phase"] is "commit" && (string?)d["sr"] is { } sr)
                {
                    foreach (var (_, l) in lanes.Where(l => l.Key.Vm == (string)d["vm"]! && l.Key.Sr == sr))
                    {
                        l.Note = "commit";
                    }
                }
                else
                {
                    vm.Phase = (string?)d["phase"];
                }

                return true;
            case "vm-end":
                var ended = VmOf(d);
                ended.Status = (string)d["status"]!;
                Ended.Add($"VM {d["vm"]}: {ended.Status}");
                return true;
            case "end":
                Statuses = [.. d["vms"]!.AsArray().Select(v => v!["status"]!.GetValue<string>())];
                return false;
            default:
                return false;
        }
    }

    /// <summary>The rows at this width: name columns as wide as the longest name while that fits, else shortened with an
    /// ellipsis; then the bar (10 to 40 columns), percentage, MiB done and total, rate, and the ETA or the lane's state.</summary>
    public List<string> Rows(int width)
    {
        var rows = lanes.Values.Select(l => new Row(l.Vm.Name, l.Disk, l.Sr, l.Fraction, Percent(l), Amounts(l), Rate(l), l.Tail))
            .Concat(vms.Values.Where(v => !lanes.Values.Any(l => l.Vm == v))
                .Select(v => new Row(v.Name, v.Status ?? v.Phase ?? "queued", "", null, "", "", "", "")))
            .ToList();
        if (rows.Count == 0)
        {
            return [];
        }

        // Numbers first: they are what changes; the names give way.
        int Widest(Func<Row, string> cell) => rows.Max(r => TextWidth.Of(cell(r)));
        int[] numbers = [Widest(r => r.Percent), Widest(r => r.Amounts), Widest(r => r.Rate), Widest(r => r.Tail)];
        var names = new[] { Widest(r => r.Vm), Widest(r => r.Disk), Widest(r => r.Sr) };
        var arrowWidth = TextWidth.Of(arrow) + 2;
        var fixedWidth = numbers.Sum() + numbers.Length + 1 /* before the bar */ + 1 /* between VM and disk */ + arrowWidth;
        var room = Math.Max(3, width - fixedWidth - MinBar);
        Shrink(names, room);
        var bar = Math.Clamp(width - fixedWidth - names.Sum(), 0, MaxBar);
        return [.. rows.Select(r => Clip(r.Fraction is null
            ? $"{Fit(r.Vm, names[0])} {r.Disk}"
            : $"{Fit(r.Vm, names[0])} {Fit(r.Disk, names[1])} {arrow} {Fit(r.Sr, names[2])} {Bar(r.Fraction.Value, bar)} "
                + $"{r.Percent.PadLeft(numbers[0])} {r.Amounts.PadLeft(numbers[1])} {r.Rate.PadLeft(numbers[2])} {r.Tail}", width))];
    }

    /// <summary>One plain line for an event (redirected output, at most one per lane a second: <paramref name="due"/> says
    /// whether this lane's line is due), null when the event prints none; within <paramref name="width"/>.</summary>
    public string? Line(ServerEvent e, Func<string, bool> due, int width)
    {
        Apply(e);
        var d = e.Data;
        var vm = e.Name is "progress" or "vm-end" ? VmOf(d).Name : "";
        switch (e.Name)
        {
            case "progress" when d["disk"] is not null:
                var lane = lanes[((string)d["vm"]!, (string)d["disk"]!, (string?)d["sr"] ?? "")];
                var amounts = $": {Amounts(lane)} {Rate(lane)} ETA {(lane.Eta is { } s ? $"{Math.Ceiling(s):F0} s" : "-")}";
                var shown = new[] { TextWidth.Of(vm), TextWidth.Of(lane.Disk), TextWidth.Of(lane.Sr) };
                Shrink(shown, width - TextWidth.Of(amounts) - "VM  disk  -> SR ".Length);
                var label = $"VM {Fit(vm, shown[0]).TrimEnd()} disk {Fit(lane.Disk, shown[1]).TrimEnd()} "
                    + $"-> SR {Fit(lane.Sr, shown[2]).TrimEnd()}";
                return due($"{d["vm"]}/{d["disk"]}/{d["sr"]}") || lane.Bytes >= lane.Total ? Clip(label + amounts, width) : null;
            case "progress" when (string?)d["phase"] is "snapshot":
                return Clip($"VM {vm}: snapshot", width);
            case "progress" when (string?)d["phase"] is "commit":
                return Clip($"VM {vm} -> SR {Name(d, "srName", "sr")}: commit", width);
            case "vm-end":
                return $"VM {d["vm"]}: {d["status"]}"; // the result, as `job run` prints it: by uuid
            default:
                return null;
        }
    }

    /// <summary>Narrows the widest columns first until they add up to <paramref name="room"/> (each keeps 1 column).</summary>
    private static void Shrink(int[] widths, int room)
    {
        while (widths.Sum() > room && widths.Max() > 1)
        {
            widths[Array.IndexOf(widths, widths.Max())]--;
        }
    }

    /// <summary>The text in exactly <paramref name="width"/> columns: cut with an ellipsis when longer, then padded (a cut
    /// before a wide character leaves a column to pad).</summary>
    private string Fit(string text, int width)
    {
        var fitted = TextWidth.Of(text) <= width ? text : TextWidth.Cut(text, width - TextWidth.Of(ellipsis)) + ellipsis;
        return fitted + new string(' ', Math.Max(0, width - TextWidth.Of(fitted)));
    }

    private string Clip(string row, int width)
        => TextWidth.Of(row) <= width ? row : TextWidth.Cut(row, width - TextWidth.Of(ellipsis)) + ellipsis;

    private string Bar(double fraction, int width)
    {
        var done = (int)Math.Round(Math.Clamp(fraction, 0, 1) * width);
        return unicode ? new string('█', done) + new string('░', width - done) : new string('#', done) + new string('-', width - done);
    }

    private static string Percent(Lane l) => $"{Math.Floor(l.Fraction * 100):F0}%";

    private static string Amounts(Lane l) => $"{l.Bytes / MiB:F1}/{l.Total / MiB:F1} MiB";

    private static string Rate(Lane l) => l.Rate is { } r ? $"{r / 1e6:F1} MB/s" : "- MB/s";

    private static string Name(JsonNode d, string name, string uuid) => (string?)d[name] ?? (string?)d[uuid] ?? "";

    private Vm VmOf(JsonNode d)
    {
        var uuid = (string)d["vm"]!;
        if (!vms.TryGetValue(uuid, out var vm))
        {
            vms[uuid] = vm = new Vm(uuid);
        }

        vm.Name = (string?)d["vmName"] ?? vm.Name; // vm-end events carry no name: the one progress gave stays
        return vm;
    }

    private sealed class Vm(string uuid)
    {
        public string Name { get; set; } = uuid;

        public string? Phase { get; set; }

        public string? Status { get; set; }
    }

    private sealed class Lane(Vm vm, string disk, string sr)
    {
        public Vm Vm => vm;

        public string Disk => disk;

        public string Sr => sr;

        public long Bytes { get; set; }

        public long Total { get; set; }

        public double? Rate { get; set; }

        public double? Eta { get; set; }

        public string? Note { get; set; }

        /// <summary>A disk with nothing to send (a delta of an idle disk) is done from the start.</summary>
        public double Fraction => Total <= 0 ? 1 : (double)Bytes / Total;

        /// <summary>The VM's end status, else the commit, else the time left.</summary>
        public string Tail => Vm.Status ?? Note ?? (Eta is { } s ? $"ETA {TimeSpan.FromSeconds(Math.Ceiling(s)):g}" : "ETA -");
    }

    private sealed record Row(string Vm, string Disk, string Sr, double? Fraction, string Percent, string Amounts, string Rate,
        string Tail);
}
