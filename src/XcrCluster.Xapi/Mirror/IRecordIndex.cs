namespace XcrCluster.Xapi.Mirror;

/// <summary>The keys a record is found by (a disk by its parent's uuid, a restore point by its source VM): a reader
/// asks a <see cref="RecordSet{T}"/> for one key and touches only the records holding it, not the whole class. The
/// reader's layer decides the keys, so the pool's metadata conventions stay out of the mirror.</summary>
public interface IRecordIndex
{
    /// <summary>Each key once per record; the class is implied (keys of different classes never meet).</summary>
    IEnumerable<string> Keys(object record);
}
