namespace XcrCluster.Deploy.Tests;

/// <summary>A unit file's settings as (section, key, value) in order: a key may repeat (LoadCredential=, ExecStartPre=).</summary>
internal sealed record SystemdUnit(string Name, List<(string Section, string Key, string Value)> Settings)
{
    public static SystemdUnit Load(string name)
    {
        var settings = new List<(string, string, string)>();
        var section = "";
        foreach (var line in DeployFiles.Read("systemd", name).Split('\n').Select(l => l.Trim()))
        {
            if (line.StartsWith('[') && line.EndsWith(']'))
            {
                section = line[1..^1];
            }
            else if (line.Length > 0 && !line.StartsWith('#') && !line.StartsWith(';'))
            {
                var eq = line.IndexOf('=');
                settings.Add((section, line[..eq], line[(eq + 1)..]));
            }
        }

        return new SystemdUnit(name, settings);
    }

    public IEnumerable<string> All(string key) => Settings.Where(s => s.Key == key).Select(s => s.Value);

    public string? One(string key) => All(key).LastOrDefault();

    /// <summary>The programs ExecStartPre= and ExecStart= run (a leading -, +, ! or @ is a prefix, not the path).</summary>
    public IEnumerable<string> Executables
        => All("ExecStartPre").Concat(All("ExecStart")).Select(c => c.TrimStart('-', '+', '!', '@').Split(' ')[0]);

    /// <summary>A KEY=VALUE environment file: comments and blank lines skipped.</summary>
    public static Dictionary<string, string> EnvironmentFile(string name)
        => DeployFiles.Read("systemd", name).Split('\n').Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#') && !l.StartsWith(';'))
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1]);
}
