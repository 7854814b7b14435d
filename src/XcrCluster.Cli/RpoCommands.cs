using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using XcrCluster.Domain;

namespace XcrCluster.Cli;

/// <summary>`xcr rpo` (lag per VM of every job against its target, late ones first) and the `--rpo` option of `xcr job create|set`
/// and `xcr job schedule add|set`.</summary>
public static class RpoCommands
{
    /// <summary>`--rpo 15m`: the lag the scheduler keeps each VM under, running it as often as needed.</summary>
    public static Option<string?> Option() => new("--rpo")
    {
        Description = "keep each VM's lag (now minus its newest restore point) under this, e.g. 15m or 30s (at least 10s); "
            + "next to or instead of a cron",
    };

    /// <summary>A duration as the other options take them; null when not given.</summary>
    public static TimeSpan? Parse(string? text) => text is null ? null
        : Units.ParseDuration(text) ?? throw new CliException($"--rpo {text}: expected {Units.DurationHint}");

    public static Command Build(CliContext cli)
        => cli.Api("rpo", "lag per VM of every job against its RPO target, late ones first (marked !)",
            async (r, client) => await cli.Print(r, await client.GetAsync("/api/rpo"), d => d.AsArray().Select(Line)));

    /// <summary>"! web01 (uuid) | job | lag 0:00:41 / target 0:00:30 (rpo) | newest point 2026-12-03 10:00:00Z".</summary>
    private static string Line(JsonNode? v)
    {
        var name = v!["vmName"]?.GetValue<string>() is { } n ? $"{n} ({v["vm"]})" : $"{v["vm"]}";
        var lag = v["lagSeconds"]?.GetValue<double>() is { } l ? $"lag {Span(l)}" : "no restore point yet";
        var target = v["targetSeconds"]?.GetValue<double>() is { } t ? $" / target {Span(t)} ({v["targetFrom"]})" : " / no target";
        var point = v["newestPoint"]?.GetValue<DateTimeOffset>() is { } p
            ? $" | newest point {p.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)}Z" : "";
        return $"{(v["violation"]!.GetValue<bool>() ? "!" : " ")} {name} | {v["job"]} | {lag}{target}{point}";
    }

    private static TimeSpan Span(double seconds) => TimeSpan.FromSeconds(Math.Round(seconds));
}
