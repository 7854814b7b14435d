using System.Buffers;
using System.Text.Json;

namespace XcrCluster.XapiSim.Model;

/// <summary>
/// The database on disk: DIR/state.json, a snapshot ({"generation", "objects": [{class, ref, fields}]}, the
/// format the simulator once rewrote after every change, so an old data directory still loads), and DIR/state.log,
/// one JSON line per row changed ({"g", class, ref, fields}) or deleted ({"g", "del": ref}) since the snapshot,
/// appended at each save, so a change costs the bytes of the rows it touched. A torn last line (a crash while
/// appending) is dropped on load. When the log outgrows the snapshot by <see cref="CompactionFactor"/>, the
/// snapshot is rewritten (temporary file, then rename) and the log emptied; log lines not newer than the
/// snapshot's generation are skipped, so a crash between the two loses nothing. Rows <c>keep</c> refuses
/// (tasks) are never written. Callers hold the database lock.
/// </summary>
public sealed class StateStore(string dir, Func<XapiObject, bool> keep) : IDisposable
{
    private FileStream? log;
    private bool closed;
    private long writtenGeneration;

    public string SnapshotPath => Path.Combine(dir, "state.json");

    public string LogPath => Path.Combine(dir, "state.log");

    /// <summary>Compaction starts when the log is this many times the snapshot's size...</summary>
    public double CompactionFactor { get; init; } = 2;

    /// <summary>...and at least this big, so a small pool's log is not rewritten at every few changes.</summary>
    public long CompactionMinBytes { get; init; } = 4 << 20;

    public long SnapshotBytes { get; private set; }

    public long LogBytes { get; private set; }

    public bool Exists => File.Exists(SnapshotPath) || File.Exists(LogPath);

    public void Load(XapiDatabase db)
    {
        long snapshotGeneration = 0;
        if (File.Exists(SnapshotPath))
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(SnapshotPath));
            foreach (var element in document.RootElement.GetProperty("objects").EnumerateArray())
            {
                var (schema, @ref, fields) = RowJson.ReadRow(element);
                db.Put(schema, @ref, fields);
            }

            snapshotGeneration = document.RootElement.GetProperty("generation").GetInt64();
            SnapshotBytes = new FileInfo(SnapshotPath).Length;
        }

        var generation = Math.Max(snapshotGeneration, Replay(db, snapshotGeneration));
        db.Loaded(generation);
        writtenGeneration = db.Generation;
    }

    /// <summary>Appends the rows changed and deleted since the last save; compacts when the log has grown enough.</summary>
    public void Save(XapiDatabase db)
    {
        var changes = db.TakeChanges();
        if (changes.Count == 0 && db.Generation == writtenGeneration)
        {
            return;
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            foreach (var (row, deleted) in changes.Where(c => keep(c.Row)))
            {
                Line(writer, buffer, db.Generation, w =>
                {
                    if (deleted)
                    {
                        w.WriteString("del", row.Ref);
                    }
                    else
                    {
                        RowJson.WriteRow(w, row);
                    }
                });
            }

            // Only unsaved rows (tasks) changed: the generation is still recorded, so tokens never go back.
            if (buffer.WrittenCount == 0)
            {
                Line(writer, buffer, db.Generation, _ => { });
            }
        }

        Append(buffer.WrittenSpan);
        writtenGeneration = db.Generation;
        if (LogBytes > Math.Max(CompactionMinBytes, SnapshotBytes * CompactionFactor))
        {
            Compact(db);
        }
    }

    /// <summary>Rewrites the snapshot from the database, then empties the log.</summary>
    public void Compact(XapiDatabase db)
    {
        db.TakeChanges();
        var temp = SnapshotPath + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        using (var writer = new Utf8JsonWriter(file))
        {
            writer.WriteStartObject();
            writer.WriteNumber("generation", db.Generation);
            writer.WriteStartArray("objects");
            foreach (var row in Schemas.All.SelectMany(db.All).Where(keep))
            {
                writer.WriteStartObject();
                RowJson.WriteRow(writer, row);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        File.Move(temp, SnapshotPath, overwrite: true);
        SnapshotBytes = new FileInfo(SnapshotPath).Length;
        writtenGeneration = db.Generation;

        // An append-mode stream cannot be cut: close it, empty the file, and the next save reopens it.
        log?.Dispose();
        log = null;
        File.WriteAllBytes(LogPath, []);
        LogBytes = 0;
    }

    public void Dispose()
    {
        closed = true;
        log?.Dispose();
        log = null;
    }

    private static void Line(Utf8JsonWriter writer, ArrayBufferWriter<byte> buffer, long generation, Action<Utf8JsonWriter> body)
    {
        writer.Reset(buffer);
        writer.WriteStartObject();
        writer.WriteNumber("g", generation);
        body(writer);
        writer.WriteEndObject();
        writer.Flush();
        buffer.Write("\n"u8);
    }

    /// <summary>Applies the log's complete lines newer than the snapshot and cuts a torn tail off the file (so the
    /// next append starts a line); returns the last generation logged.</summary>
    private long Replay(XapiDatabase db, long snapshotGeneration)
    {
        if (!File.Exists(LogPath))
        {
            return 0;
        }

        var bytes = File.ReadAllBytes(LogPath);
        long generation = 0;
        var valid = 0;
        while (valid < bytes.Length)
        {
            var end = Array.IndexOf(bytes, (byte)'\n', valid);
            if (end < 0 || !TryApply(db, bytes.AsMemory(valid, end - valid), snapshotGeneration, ref generation))
            {
                break;
            }

            valid = end + 1;
        }

        if (valid < bytes.Length)
        {
            using var file = new FileStream(LogPath, FileMode.Open, FileAccess.Write);
            file.SetLength(valid);
        }

        LogBytes = valid;
        return generation;
    }

    private static bool TryApply(XapiDatabase db, ReadOnlyMemory<byte> line, long snapshotGeneration, ref long generation)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            var g = root.GetProperty("g").GetInt64();
            generation = Math.Max(generation, g);
            if (g <= snapshotGeneration)
            {
                return true;
            }

            if (root.TryGetProperty("del", out var deleted))
            {
                if (db.TryGet(deleted.GetString()!, out var row))
                {
                    db.Delete(row);
                }
            }
            else if (root.TryGetProperty("fields", out _))
            {
                var (schema, @ref, fields) = RowJson.ReadRow(root);
                db.Put(schema, @ref, fields);
            }

            return true;
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return false;
        }
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (closed)
        {
            // A save after shutdown (a call finishing late) still lands, without keeping the file open.
            using var late = OpenLog();
            late.Write(bytes);
        }
        else
        {
            log ??= OpenLog();
            log.Write(bytes);
            log.Flush();
        }

        LogBytes += bytes.Length;
    }

    private FileStream OpenLog() => new(LogPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
}
