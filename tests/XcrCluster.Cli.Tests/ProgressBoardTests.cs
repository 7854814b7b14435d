using System.Text.Json.Nodes;

namespace XcrCluster.Cli.Tests;

/// <summary>The progress renderer shared by `run tail` and `job run --wait`: names rather than uuids, and rows that fit
/// the width (100 columns here) however long the names, shortened with an ellipsis only when they must be.</summary>
public sealed class ProgressBoardTests
{
    private const string Vm = "4f1c7e2a-0b6d-4e8f-9a31-5c2d7b8e6f10";
    private const string Vm2 = "7a2b9c3d-1e4f-4a5b-8c6d-9e0f1a2b3c4d";
    private const string Disk = "9d3e5f7a-2c4b-4d6e-8f1a-3b5c7d9e1f20";
    private const string Sr = "c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f";
    private const string Sr2 = "e5f6a7b8-c9d0-4e1f-a2b3-c4d5e6f7a8b9";
    private const string LongVm = "accounting-database-primary-frankfurt-datacenter-rack-12-production";
    private const string LongDisk = "accounting-database-primary system disk (root filesystem, ext4)";
    private const string LongSr = "NFS storage on the second NetApp filer, tier 2 (replicas only)";
    private const string WideDisk = "日本語のディスク名はとても長いのでここで切り詰められるはずです"; // two columns a character

    private static ServerEvent Progress(string vm, string? vmName, string disk, string? diskName, string sr, string? srName, long bytes,
        double? rate = 12.5e6, double? eta = 3725)
        => new("progress", new JsonObject
        {
            ["runId"] = "run-1", ["vm"] = vm, ["vmName"] = vmName, ["disk"] = disk, ["diskName"] = diskName, ["sr"] = sr,
            ["srName"] = srName, ["bytes"] = bytes, ["total"] = 40L << 30, ["bytesPerSecond"] = rate, ["etaSeconds"] = eta,
            ["phase"] = "export",
        });

    private static ServerEvent Phase(string vm, string vmName, string phase, string? sr = null, string? srName = null)
        => new("progress", new JsonObject { ["vm"] = vm, ["vmName"] = vmName, ["phase"] = phase, ["sr"] = sr, ["srName"] = srName });

    private static ServerEvent[] LongNamedRun() =>
    [
        Phase(Vm2, "web01", "snapshot"),
        Progress(Vm, LongVm, Disk, LongDisk, Sr, LongSr, 3L << 30),
        Progress(Vm, LongVm, Disk, LongDisk, Sr2, "SSD pool", 40L << 30, rate: 1234.5e6, eta: 0),
        Progress(Vm, LongVm, Disk + "-2", WideDisk, Sr, LongSr, 1L << 30, rate: null, eta: null),
    ];

    [Fact]
    public void At_100_columns_long_names_are_shortened_with_an_ellipsis_and_no_row_is_longer()
    {
        var board = new ProgressBoard();
        foreach (var e in LongNamedRun())
        {
            board.Apply(e);
        }

        var rows = board.Rows(100);
        Assert.Equal(4, rows.Count); // three lanes, and the VM still taking its snapshot
        Assert.All(rows, r => Assert.InRange(TextWidth.Of(r), 1, 100));
        Assert.All(rows, r => Assert.DoesNotContain(Vm, r));
        Assert.All(rows, r => Assert.DoesNotContain(Sr, r));
        Assert.All(rows.Take(3), r => Assert.StartsWith("accounting", r));
        Assert.All(rows.Take(3), r => Assert.Contains("…", r));
        Assert.Contains(rows, r => r.Contains(" → SSD pool ", StringComparison.Ordinal)); // a short name is kept whole
        Assert.Contains(rows, r => r.Contains(" → NFS storage", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Contains("日本語", StringComparison.Ordinal));
        Assert.StartsWith("web01 ", rows[3]);
        Assert.EndsWith(" snapshot", rows[3]);

        // The bars and numbers are in columns: every lane's bar starts at the same column (wide characters counted twice).
        var bars = rows.Take(3).Select(r => TextWidth.Of(r[..r.IndexOfAny(['█', '░'])])).Distinct();
        Assert.Single(bars);
        Assert.Contains(rows, r => System.Text.RegularExpressions.Regex.IsMatch(r, @" 7% +3072\.0/40960\.0 MiB +12\.5 MB/s ETA 1:02:05$"));
        Assert.Contains(rows, r => r.Contains("100% 40960.0/40960.0 MiB 1234.5 MB/s", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(100)]
    [InlineData(80)]
    [InlineData(60)]
    [InlineData(20)]
    public void No_row_or_line_is_wider_than_the_terminal(int width)
    {
        var board = new ProgressBoard();
        var lines = new ProgressBoard(unicode: false);
        foreach (var e in LongNamedRun().Append(new ServerEvent("vm-end", new JsonObject { ["vm"] = Vm, ["status"] = "success" })))
        {
            board.Apply(e);
            if (lines.Line(e, _ => true, width) is { } line && e.Name != "vm-end")
            {
                Assert.InRange(TextWidth.Of(line), 1, width);
                Assert.DoesNotContain(Vm, line);
            }

            Assert.All(board.Rows(width), r => Assert.InRange(TextWidth.Of(r), 1, width));
        }

        Assert.Contains(board.Rows(width), r => r.Contains("success", StringComparison.Ordinal) || width < 60);
    }

    [Fact]
    public void Short_names_are_shown_whole_and_a_node_that_sent_no_names_gets_its_uuids()
    {
        var board = new ProgressBoard();
        board.Apply(Progress(Vm, "tiny01", Disk, "tiny01 disk 0", Sr, "Local storage", 1L << 30));
        Assert.StartsWith("tiny01 tiny01 disk 0 → Local storage ░", Assert.Single(board.Rows(100)));

        var unnamed = new ProgressBoard();
        unnamed.Apply(Progress(Vm, null, Disk, null, Sr, null, 1L << 30));
        var row = Assert.Single(unnamed.Rows(200));
        Assert.StartsWith($"{Vm} {Disk} → {Sr} ", row);
        Assert.InRange(TextWidth.Of(Assert.Single(unnamed.Rows(100))), 1, 100);
    }

    [Fact]
    public void A_disk_with_nothing_to_send_is_full()
    {
        var board = new ProgressBoard();
        board.Apply(new ServerEvent("progress", new JsonObject
        {
            ["vm"] = Vm, ["vmName"] = "web01", ["disk"] = Disk, ["diskName"] = "web01 disk 1", ["sr"] = Sr, ["srName"] = "Local storage",
            ["bytes"] = 0L, ["total"] = 0L, ["phase"] = "export",
        }));
        Assert.Matches(@"^web01 web01 disk 1 → Local storage █+ 100% 0\.0/0\.0 MiB - MB/s ETA -$", Assert.Single(board.Rows(100)));
    }

    [Fact]
    public void Redirected_lines_name_the_vm_disk_and_sr_and_end_lines_keep_the_uuid()
    {
        var board = new ProgressBoard(unicode: false);
        Assert.Equal("VM tiny01: snapshot", board.Line(Phase(Vm, "tiny01", "snapshot"), _ => true, 100));
        Assert.Equal("VM tiny01 disk tiny01 disk 0 -> SR Local storage: 1024.0/40960.0 MiB 12.5 MB/s ETA 3725 s",
            board.Line(Progress(Vm, "tiny01", Disk, "tiny01 disk 0", Sr, "Local storage", 1L << 30), _ => true, 100));
        Assert.Null(board.Line(Progress(Vm, "tiny01", Disk, "tiny01 disk 0", Sr, "Local storage", 2L << 30), _ => false, 100));
        Assert.NotNull(board.Line(Progress(Vm, "tiny01", Disk, "tiny01 disk 0", Sr, "Local storage", 40L << 30), _ => false, 100));
        Assert.Equal("VM tiny01 -> SR Local storage: commit",
            board.Line(Phase(Vm, "tiny01", "commit", Sr, "Local storage"), _ => true, 100));
        Assert.Equal($"VM {Vm}: success", board.Line(new ServerEvent("vm-end", new JsonObject { ["vm"] = Vm, ["status"] = "success" }),
            _ => true, 100));
    }
}
