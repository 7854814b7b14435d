using Microsoft.Data.Sqlite;

namespace XcrCluster.Node;

/// <summary>The data directory holds the token, the cluster key and the journal: only the node's user may read it.</summary>
public static class NodeFiles
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates DIR 0700, or tightens an existing one that others could read or enter.</summary>
    public static void PrepareDataDir(string dir)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(dir);
            return;
        }

        if (!Directory.Exists(dir))
        {
            Directory.CreateDirectory(dir, OwnerOnly);
        }

        if ((File.GetUnixFileMode(dir) & ~OwnerOnly) != 0)
        {
            File.SetUnixFileMode(dir, File.GetUnixFileMode(dir) & OwnerOnly);
        }
    }

    /// <summary>Creates the SQLite database file empty and 0600 before SQLite opens it (SQLite gives its journal and WAL
    /// files the database's mode), so no journal byte is ever readable by others. Returns the connection string.</summary>
    public static string PrivateSqlite(string connection)
    {
        var path = new SqliteConnectionStringBuilder(connection).DataSource;
        if (!OperatingSystem.IsWindows() && !File.Exists(path))
        {
            var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = OwnerReadWrite };
            using var created = new FileStream(path, create);
        }

        return connection;
    }
}
