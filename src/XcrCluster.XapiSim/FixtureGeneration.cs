using XcrCluster.XapiSim.Storage;

namespace XcrCluster.XapiSim;

/// <summary>
/// A fixture's "generate": {"vms": N, "disks": M, "diskSize": bytes, "sr": name, "powerState": "Halted", "fill": ...}
/// makes N VMs named gen-00001, gen-00002, ... with M disks of diskSize each on the named SR (default the first)
/// and one VIF on the first network, for pools of thousands of objects that no one lists. Disks are synthetic
/// by default (content generated on read from a seed: only a small differencing file is written), disk k of the
/// pool (0-based, VM by VM) taking seed fill.Seed + k, so every disk differs and a rebuilt pool has the same content.
/// </summary>
public sealed record FixtureGenerate(
    int Vms, int Disks = 1, long DiskSize = 16 << 20, string? Sr = null, string PowerState = "Halted", DiskFill? Fill = null)
{
    /// <summary>The name of the VM at a 0-based index.</summary>
    public static string VmName(int index) => $"gen-{index + 1:D5}";

    /// <summary>The seed of a generated disk (0-based VM and disk index), given the fill's base seed.</summary>
    public static int DiskSeed(int baseSeed, int vm, int disk, int disksPerVm) => baseSeed + (vm * disksPerVm) + disk;

    /// <summary>The VMs as if listed one by one.</summary>
    public IEnumerable<FixtureVm> Specs()
    {
        if (Vms < 0 || Disks < 0 || DiskSize <= 0)
        {
            throw new InvalidDataException($"generate: vms ({Vms}) and disks ({Disks}) must be >= 0 and diskSize ({DiskSize}) > 0");
        }

        var fill = Fill ?? new DiskFill("synthetic", 1);
        for (var vm = 0; vm < Vms; vm++)
        {
            var index = vm;
            var disks = Enumerable.Range(0, Disks)
                .Select(d => new FixtureDisk(DiskSize, Sr: Sr, Fill: fill with { Seed = DiskSeed(fill.Seed, index, d, Disks) }))
                .ToList();
            yield return new FixtureVm(VmName(vm), PowerState, Disks: disks, Vifs: [new FixtureVif(null)]);
        }
    }
}
