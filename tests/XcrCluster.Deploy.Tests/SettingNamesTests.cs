using System.Text.RegularExpressions;

namespace XcrCluster.Deploy.Tests;

/// <summary>Every XCR_* variable deploy/ names anywhere, comments and README included, is an option of the node
/// (XCR_NODE_*) or read by one of our programs: a misspelt or removed setting in a comment misleads as much as in a file.</summary>
public sealed partial class SettingNamesTests
{
    [Fact]
    public void Every_variable_deploy_names_is_an_option_of_the_node_or_read_by_a_program()
    {
        var names = Directory.EnumerateFiles(DeployFiles.PathOf(), "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/secrets/", StringComparison.Ordinal))
            .SelectMany(f => Variable().Matches(File.ReadAllText(f)).Select(m => m.Value))
            .ToHashSet();
        Assert.Contains("XCR_NODE_POSTGRES_PASSWORD_FILE", names);
        foreach (var name in names)
        {
            if (name.StartsWith(XcrCluster.Node.NodeSettings.EnvironmentPrefix, StringComparison.Ordinal))
            {
                NodeEnvironment.AssertOption(name);
            }
            else
            {
                NodeEnvironment.AssertRead(name);
            }
        }
    }

    [Fact]
    public void A_misspelt_setting_is_told_apart()
    {
        Assert.ThrowsAny<Exception>(() => NodeEnvironment.AssertOption("XCR_NODE_PUBLIC_HOST"));
        Assert.ThrowsAny<Exception>(() => NodeEnvironment.AssertRead("XCR_CLUSTER_KEYFILE"));
        NodeEnvironment.AssertRead("XCR_CLUSTER_KEY");
    }

    [GeneratedRegex(@"\bXCR_[A-Z0-9_]*[A-Z0-9]\b")]
    private static partial Regex Variable();
}
