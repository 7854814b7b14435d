namespace XcrCluster.Node;

/// <summary>What xcr-node does besides running a node: `xcr-node token rotate [--data DIR] [--keep-previous 10m]` writes
/// a new API token that a running node accepts from its next request (the old one for the grace given, else no more)
/// and prints it on stdout.</summary>
public static class NodeCommands
{
    public static bool IsCommand(string[] args) => args is ["token", ..];

    public static int Run(string[] args)
    {
        try
        {
            if (args is not ["token", "rotate", .. var rest])
            {
                throw new ArgumentException("usage: xcr-node token rotate [--data DIR] [--keep-previous DURATION]");
            }

            var dataDir = Environment.GetEnvironmentVariable(NodeSettings.EnvironmentName("--data")) ?? new NodeOptions().DataDir;
            var keep = TimeSpan.Zero;
            for (var i = 0; i < rest.Length; i++)
            {
                string Value() => i + 1 < rest.Length ? rest[++i] : throw new ArgumentException($"{rest[i]} needs a value");
                switch (rest[i])
                {
                    case "--data":
                        dataDir = Value();
                        break;
                    case "--keep-previous":
                        keep = Domain.Units.ParseDuration(Value()) is { } d && d >= TimeSpan.Zero ? d
                            : throw new ArgumentException($"--keep-previous {rest[i]}: expected {Domain.Units.DurationHint}");
                        break;
                    default:
                        throw new ArgumentException($"unknown option {rest[i]}");
                }
            }

            if (!Directory.Exists(dataDir))
            {
                throw new ArgumentException($"--data {dataDir}: no such directory (the node's data directory)");
            }

            Console.Out.WriteLine(NodeTokens.Rotate(dataDir, keep));
            return 0;
        }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"xcr-node: {e.Message}");
            return 2;
        }
    }
}
