using System.Text.Json;
using System.Text.Json.Serialization;
using XcrCluster.Domain;
using XcrCluster.Xapi.Records;
using XcrCluster.Xapi.Wire;

namespace XcrCluster.Replication.Recovery;

/// <summary>A disk of an offline seed: where it goes on the replica, what VDI.create needs, the source snapshot VDI it holds
/// (the replica disk's xo:copy_of and content key), and its VHD file, whose size and SHA-256 are set once it is complete.</summary>
public sealed record ManifestDisk(string Userdevice, bool Bootable, string Mode, bool Unpluggable, string Name, string Description,
    long VirtualSize, string Type, bool Sharable, IReadOnlyList<string> Tags, string SnapshotVdi, string File)
{
    public long? FileSize { get; init; }

    public string? Sha256 { get; init; }

    public bool Complete => FileSize is not null && Sha256 is not null;

    /// <summary>The disk as the target side takes a source disk (its record fields that VDI.create copies).</summary>
    public VdiRecord Source() => VdiRecord.From(XapiValue.NullRef, new Dictionary<string, object?>
    {
        ["uuid"] = SnapshotVdi, ["name_label"] = Name, ["name_description"] = Description, ["virtual_size"] = VirtualSize, ["type"] = Type,
        ["sharable"] = Sharable, ["tags"] = Tags.Select(t => (object?)t).ToList(),
    });

    public VbdRecord Vbd() => new(XapiValue.NullRef, "", XapiValue.NullRef, XapiValue.NullRef, "", Userdevice, Bootable, Mode, "Disk",
        false, false, Unpluggable, new Dictionary<string, string>());
}

/// <summary>A VIF of the snapshot with its network as the job's network mapping sees it.</summary>
public sealed record ManifestVif(string Device, string Mac, long Mtu, string LockingMode, string? NetworkUuid, string? NetworkName,
    long? Vlan)
{
    public SourceVif Source() => new(VifRecord.From(XapiValue.NullRef, new Dictionary<string, object?>
        {
            ["device"] = Device, ["MAC"] = Mac, ["MTU"] = Mtu, ["locking_mode"] = LockingMode,
        }),
        NetworkUuid is null ? null : new NetworkInfo(XapiValue.NullRef, NetworkUuid, NetworkName ?? "", Vlan));
}

/// <summary>
/// manifest.json of an offline seed directory: the source VM, job, schedule and snapshot (uuid and xo:backup:datetime), the
/// snapshot's record fields VM.create takes (<see cref="ReplicaCommit.CreateFields"/>, kept as XAPI's JSON-RPC sends them),
/// its VIFs and its disks. Written to a temporary name and renamed, so a reader sees a whole manifest or the previous one.
/// </summary>
public sealed record SeedManifest(string Vm, string VmName, string Job, string Schedule, string Snapshot, string SnapshotDatetime,
    JsonElement VmRecord, IReadOnlyList<ManifestVif> Vifs, IReadOnlyList<ManifestDisk> Disks)
{
    public const string FileName = "manifest.json";

    public int Version { get; init; } = 1;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The manifest of <paramref name="dir"/>, or null when it has none; one that does not parse is refused.</summary>
    public static async Task<SeedManifest?> ReadAsync(string dir, CancellationToken ct)
    {
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            await using var file = File.OpenRead(path);
            return await JsonSerializer.DeserializeAsync<SeedManifest>(file, Json, ct).ConfigureAwait(false)
                ?? throw new JsonException("empty");
        }
        catch (JsonException e)
        {
            throw new RecoveryRefusedException($"{path} is not a seed manifest: {e.Message}");
        }
    }

    public async Task WriteAsync(string dir, CancellationToken ct)
    {
        var path = Path.Combine(dir, FileName);
        var temporary = path + ".partial";
        await using (var file = File.Create(temporary))
        {
            await JsonSerializer.SerializeAsync(file, this, Json, ct).ConfigureAwait(false);
            await file.FlushAsync(ct).ConfigureAwait(false);
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>The VM.create fields from a snapshot's record, kept in the JSON-RPC encoding the pool sent them in.</summary>
    public static JsonElement Fields(IReadOnlyDictionary<string, object?> record)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            JsonRpc.WriteValue(writer, record.Where(p => ReplicaCommit.CreateFields.Contains(p.Key)).ToDictionary());
        }

        return JsonDocument.Parse(buffer.ToArray()).RootElement.Clone();
    }

    /// <summary>The snapshot's record as VM.create takes it (decoded as a JSON-RPC reply is).</summary>
    public Dictionary<string, object?> CreateRecord() => (Dictionary<string, object?>)JsonRpc.FromJson(VmRecord)!;

    /// <summary>The snapshot as the target side reads it (name, memory, CPUs, boot, tags) with its uuid.</summary>
    public VmRecord SnapshotRecord()
    {
        var fields = CreateRecord();
        fields["uuid"] = Snapshot;
        return Xapi.Records.VmRecord.From(XapiValue.NullRef, fields);
    }
}
