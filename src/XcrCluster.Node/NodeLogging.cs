using Microsoft.Extensions.Logging.Console;
using XcrCluster.Actors;

namespace XcrCluster.Node;

/// <summary>The node's logs, all on stderr (stdout carries the ready line alone): Warning and above, and each run's start and
/// end (<see cref="RunLogging"/>) at Information; as text, or with `--log-format json` (env XCR_NODE_LOG_FORMAT=json) one
/// JSON object per line with the lines' fields (run, job, VM, outcome, bytes, duration) under State, for log collectors.</summary>
public static class NodeLogging
{
    public static void Configure(ILoggingBuilder logging, NodeOptions options)
    {
        var json = options.LogFormat == "json";
        logging.ClearProviders();
        logging.AddConsole(o =>
        {
            o.LogToStandardErrorThreshold = LogLevel.Trace;
            o.FormatterName = json ? ConsoleFormatterNames.Json : ConsoleFormatterNames.Simple;
        });
        if (json)
        {
            logging.AddJsonConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }

        logging.SetMinimumLevel(LogLevel.Warning);
        logging.AddFilter(RunLogging.Category, LogLevel.Information);
    }

    /// <summary>"text" or "json"; <paramref name="option"/> names the setting in the error.</summary>
    public static string Format(string value, string option) => value switch
    {
        "text" => "text",
        "json" => "json",
        _ => throw new ArgumentException($"{option} {value}: expected text or json"),
    };
}
