using System.Net;
using XcrCluster.Actors;
using XcrCluster.XapiSim;

namespace XcrCluster.Deploy.Tests;

/// <summary>deploy/systemd: the units pass `systemd-analyze verify` (in a root of their own where the programs they run
/// exist) without a single warning, are hardened, and the environment file's settings are options of the node whose
/// files the unit provides: its state directory, its credentials.</summary>
public sealed class SystemdTests : WithTempDir
{
    private const string Credentials = "/run/credentials/xcr-node.service/";

    [Theory]
    [InlineData("xcr-node.service")]
    [InlineData("xcr-xapi-sim.service")]
    public async Task The_unit_passes_systemd_analyze_verify_without_a_warning(string name)
    {
        var root = RootWith(name);
        var (code, stdout, stderr) = await DeployFiles.RunAsync("systemd-analyze",
            ["verify", $"--root={root}", Path.Combine(root, "etc", "systemd", "system", name)]);
        Assert.True(code == 0 && stdout.Length == 0 && stderr.Length == 0, $"exit {code}: {stdout}{stderr}");
    }

    [Theory]
    [InlineData("xcr-node.service")]
    [InlineData("xcr-xapi-sim.service")]
    public async Task The_unit_is_hardened_and_stops_with_SIGTERM_and_time_to_spare(string name)
    {
        var root = RootWith(name);
        // Exposure 0-100 (shown as 0.0-10.0): 25 keeps it in systemd's "OK" band.
        var (code, stdout, stderr) = await DeployFiles.RunAsync("systemd-analyze",
            ["security", "--offline=yes", "--threshold=25", $"--root={root}", Path.Combine(root, "etc", "systemd", "system", name)]);
        Assert.True(code == 0, $"exit {code}: {stdout}{stderr}");
        var unit = SystemdUnit.Load(name);
        foreach (var (key, value) in new[]
        {
            ("Type", "exec"), ("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("ProtectHome", "yes"), ("PrivateTmp", "yes"),
            ("CapabilityBoundingSet", ""), ("KillSignal", "SIGTERM"),
        })
        {
            Assert.True(unit.One(key) == value, $"{name}: {key}={unit.One(key)}, expected {key}={value}");
        }

        var dedicated = unit.One("User") is { Length: > 0 } user && user != "root";
        Assert.True(dedicated || unit.One("DynamicUser") == "yes", $"{name}: runs as root");
        Assert.NotNull(unit.One("StateDirectory"));
        Assert.Contains("AF_INET", unit.One("RestrictAddressFamilies"));
        Assert.DoesNotContain("AF_PACKET", unit.One("RestrictAddressFamilies"));
        Assert.True(Minutes(unit.One("TimeoutStopSec")!) >= 1, $"{name}: TimeoutStopSec={unit.One("TimeoutStopSec")}");
    }

    [Fact]
    public async Task The_environment_file_settings_are_options_of_the_node_and_the_unit_provides_what_they_name()
    {
        var secrets = await DeployFiles.MakeSecretsAsync(Temp.Sub("secrets"));
        var unit = SystemdUnit.Load("xcr-node.service");
        var environment = SystemdUnit.EnvironmentFile("xcr-node.env");
        Assert.Equal(["/etc/xcr/xcr-node.env"], unit.All("EnvironmentFile"));

        // Each credential the unit loads from /etc/xcr is a file make-secrets.sh makes; the node reads it where systemd puts it.
        var credentials = new Dictionary<string, string>();
        foreach (var credential in unit.All("LoadCredential"))
        {
            var (id, source) = (credential.Split(':')[0], credential.Split(':')[1]);
            Assert.StartsWith("/etc/xcr/", source);
            Assert.True(File.Exists(Path.Combine(secrets, Path.GetFileName(source))), $"{source}: make-secrets.sh makes no such file");
            credentials[Credentials + id] = Path.Combine(secrets, Path.GetFileName(source));
        }

        foreach (var path in environment.Values.Where(v => v.StartsWith("/run/credentials/", StringComparison.Ordinal)))
        {
            Assert.True(credentials.ContainsKey(path), $"{path}: the unit loads no such credential");
        }

        var options = NodeEnvironment.Parse(environment, v => credentials.GetValueOrDefault(v));
        Assert.Equal("/var/lib/" + unit.One("StateDirectory"), options.DataDir);
        Assert.Equal(IPAddress.Loopback, options.Http.Address);
        NodeEnvironment.AssertSecretsLoad(options, secrets);
        NodeEnvironment.AssertSeeds(options, [.. options.SeedNodes.Select(s => new Uri(s).Host)]);

        // The cluster key every node shares is installed from its credential into the data directory, where the node reads it.
        Assert.Contains($"%d/cluster.key %S/{unit.One("StateDirectory")}/cluster.key", unit.All("ExecStartPre").Single());
        Assert.True(credentials.ContainsKey(Credentials + "cluster.key"));
        ClusterKey.FromBase64(File.ReadAllText(credentials[Credentials + "cluster.key"]));
    }

    [Fact]
    public void The_simulator_unit_command_parses_and_keeps_its_disks_in_its_state_directory()
    {
        var unit = SystemdUnit.Load("xcr-xapi-sim.service");
        var args = unit.One("ExecStart")!.Replace("%S", "/var/lib", StringComparison.Ordinal).Split(' ')[1..];
        var options = SimCommandLine.Parse(args);
        Assert.Equal("/var/lib/" + unit.One("StateDirectory"), options.DataDir);
        Assert.True(options.Tls);
    }

    /// <summary>A root for systemd-analyze: the system's own units (targets the unit's dependencies name) and a stand-in for
    /// each program the unit runs, so the check that they exist is made without installing them.</summary>
    private string RootWith(string name)
    {
        var root = Temp.Sub("root-" + name);
        var units = Path.Combine(root, "usr", "lib", "systemd", "system");
        Directory.CreateDirectory(units);
        foreach (var file in Directory.GetFiles("/usr/lib/systemd/system"))
        {
            File.Copy(file, Path.Combine(units, Path.GetFileName(file)));
        }

        Directory.CreateDirectory(Path.Combine(root, "etc", "systemd", "system"));
        File.Copy(DeployFiles.PathOf("systemd", name), Path.Combine(root, "etc", "systemd", "system", name));
        foreach (var program in SystemdUnit.Load(name).Executables)
        {
            var path = root + program;
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, "#!/bin/sh\n");
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return root;
    }

    private static double Minutes(string span) => span.EndsWith("min", StringComparison.Ordinal)
        ? double.Parse(span[..^3], System.Globalization.CultureInfo.InvariantCulture)
        : double.Parse(span.TrimEnd('s'), System.Globalization.CultureInfo.InvariantCulture) / 60;
}
