using System.Text;
using YamlDotNet.RepresentationModel;

namespace XcrCluster.Deploy.Tests;

/// <summary>deploy/kubernetes as `kubectl kustomize` builds it: by kubectl where it is installed (it works offline), else
/// by the few things this kustomization uses, done here: its resources, its namespace on each, its generated Secret
/// (without the name's hash suffix, which only kubectl gives).</summary>
internal static class Kustomize
{
    public static bool HasKubectl => File.Exists("/usr/bin/kubectl") || File.Exists("/usr/local/bin/kubectl");

    public static async Task<List<YamlMappingNode>> BuildAsync(string dir)
    {
        if (!HasKubectl)
        {
            return BuildHere(dir);
        }

        var (code, stdout, stderr) = await DeployFiles.RunAsync("kubectl", ["kustomize", dir]);
        Assert.True(code == 0, $"kubectl kustomize: {stderr}");
        return Yaml.Documents(stdout);
    }

    public static List<YamlMappingNode> BuildHere(string dir)
    {
        var kustomization = Yaml.Documents(File.ReadAllText(Path.Combine(dir, "kustomization.yaml"))).Single();
        var resources = kustomization.Strings("resources").SelectMany(r => Yaml.Documents(File.ReadAllText(Path.Combine(dir, r)))).ToList();
        foreach (var generator in kustomization.Seq("secretGenerator"))
        {
            var secret = new StringBuilder($"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {generator.Str("name")}\ndata:\n");
            foreach (var file in generator.Strings("files"))
            {
                secret.Append($"  {Path.GetFileName(file)}: {Convert.ToBase64String(File.ReadAllBytes(Path.Combine(dir, file)))}\n");
            }

            resources.AddRange(Yaml.Documents(secret.ToString()));
        }

        var ns = kustomization.Str("namespace");
        foreach (var resource in resources.Where(r => ns is not null && r.Str("kind") != "Namespace"))
        {
            resource.Map("metadata").Add("namespace", ns!);
        }

        return resources;
    }
}
