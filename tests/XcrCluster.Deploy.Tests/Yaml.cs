using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace XcrCluster.Deploy.Tests;

/// <summary>YAML read with YamlDotNet, merge keys (&lt;&lt;: *anchor) applied as compose applies them, and short ways to
/// walk it that fail with the path that is missing.</summary>
internal static class Yaml
{
    public static List<YamlMappingNode> Documents(string text)
    {
        var stream = new YamlStream();
        stream.Load(new MergingParser(new Parser(new StringReader(text))));
        return [.. stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>()];
    }

    public static YamlNode? Get(this YamlNode node, string key)
        => node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null;

    public static YamlMappingNode Map(this YamlNode node, string key)
        => node.Get(key) as YamlMappingNode ?? throw new KeyNotFoundException($"{key}: no mapping at {node.Start}");

    public static string? Str(this YamlNode node, string key) => (node.Get(key) as YamlScalarNode)?.Value;

    public static IEnumerable<YamlNode> Seq(this YamlNode node, string key)
        => node.Get(key) is YamlSequenceNode seq ? seq.Children : [];

    public static List<string> Strings(this YamlNode node, string key) => [.. node.Seq(key).Select(n => ((YamlScalarNode)n).Value!)];

    /// <summary>A mapping's scalar entries (compose's environment).</summary>
    public static Dictionary<string, string> Scalars(this YamlMappingNode map)
        => map.Children.ToDictionary(c => ((YamlScalarNode)c.Key).Value!, c => ((YamlScalarNode)c.Value).Value ?? "");

    public static IEnumerable<(string Key, YamlMappingNode Value)> Entries(this YamlNode node, string key)
        => node.Get(key) is YamlMappingNode map
            ? map.Children.Select(c => (((YamlScalarNode)c.Key).Value!, c.Value as YamlMappingNode ?? new YamlMappingNode()))
            : [];
}
