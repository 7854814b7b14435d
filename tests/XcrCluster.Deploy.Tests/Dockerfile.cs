using System.Text.Json;

namespace XcrCluster.Deploy.Tests;

/// <summary>One stage of deploy/docker/Dockerfile, as far as the cross-checks need it.</summary>
internal sealed record DockerStage(string Name, string From)
{
    public Dictionary<string, string> Env { get; } = [];

    public List<int> Expose { get; } = [];

    public List<string> Volumes { get; } = [];

    public List<string> Entrypoint { get; set; } = [];

    public List<string> Cmd { get; set; } = [];

    public string? User { get; set; }

    /// <summary>Sources copied from the build context (not from another stage).</summary>
    public List<string> ContextSources { get; } = [];

    /// <summary>Where each COPY put its source: destination by source.</summary>
    public Dictionary<string, string> Copied { get; } = [];
}

/// <summary>A reader of the Dockerfile's instructions: continuation lines joined, comments dropped.</summary>
internal static class Dockerfile
{
    public static List<DockerStage> Stages(string text)
    {
        var stages = new List<DockerStage>();
        foreach (var line in Instructions(text))
        {
            var space = line.IndexOf(' ');
            var (instruction, rest) = (line[..space].ToUpperInvariant(), line[(space + 1)..].Trim());
            var words = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (instruction == "FROM")
            {
                stages.Add(new DockerStage(words.Length == 3 ? words[2] : $"stage{stages.Count}", words[0]));
                continue;
            }

            var stage = stages[^1];
            switch (instruction)
            {
                case "ENV":
                    foreach (var pair in words)
                    {
                        var eq = pair.IndexOf('=');
                        stage.Env[pair[..eq]] = pair[(eq + 1)..];
                    }

                    break;
                case "EXPOSE":
                    stage.Expose.AddRange(words.Select(int.Parse));
                    break;
                case "USER":
                    stage.User = rest;
                    break;
                case "VOLUME":
                    stage.Volumes.AddRange(words);
                    break;
                case "ENTRYPOINT":
                    stage.Entrypoint = JsonSerializer.Deserialize<List<string>>(rest)!;
                    break;
                case "CMD":
                    stage.Cmd = JsonSerializer.Deserialize<List<string>>(rest)!;
                    break;
                case "COPY":
                    var fromStage = words.Any(w => w.StartsWith("--from=", StringComparison.Ordinal));
                    var paths = words.Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToList();
                    foreach (var source in paths[..^1])
                    {
                        stage.Copied[source] = paths[^1];
                        if (!fromStage)
                        {
                            stage.ContextSources.Add(source);
                        }
                    }

                    break;
            }
        }

        return stages;
    }

    private static IEnumerable<string> Instructions(string text)
    {
        var current = "";
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || (line.Length == 0 && current.Length == 0))
            {
                continue;
            }

            current += line.TrimEnd('\\') + " ";
            if (!line.EndsWith('\\'))
            {
                yield return current.Trim();
                current = "";
            }
        }
    }
}
