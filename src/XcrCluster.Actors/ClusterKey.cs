using System.Security.Cryptography;
using System.Text;

namespace XcrCluster.Actors;

/// <summary>
/// The key every node of a cluster shares (config or XCR_CLUSTER_KEY) to encrypt pool credentials at rest:
/// AES-256-GCM, so the journal only ever holds ciphertext and any node that hosts a pool's agent can read them.
/// </summary>
public sealed class ClusterKey
{
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] key;

    public ClusterKey(byte[] key)
    {
        if (key.Length != 32)
        {
            throw new ArgumentException("the cluster key must be 32 bytes (base64 of 32 random bytes)");
        }

        this.key = key;
    }

    public static ClusterKey FromBase64(string base64) => new(Convert.FromBase64String(base64.Trim()));

    /// <summary>The key from XCR_CLUSTER_KEY, else DIR/cluster.key, else a new one written there (0600): the
    /// embedded default needs no set-up; a multi-node cluster gives every node the same key.</summary>
    public static ClusterKey Load(string dataDir)
    {
        if (Environment.GetEnvironmentVariable("XCR_CLUSTER_KEY") is { Length: > 0 } fromEnv)
        {
            return FromBase64(fromEnv);
        }

        var path = Path.Combine(dataDir, "cluster.key");
        if (!File.Exists(path))
        {
            PrivateFile.Write(path, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        }

        return FromBase64(File.ReadAllText(path));
    }

    public string Encrypt(string plaintext)
    {
        var plain = Encoding.UTF8.GetBytes(plaintext);
        var output = new byte[NonceSize + TagSize + plain.Length];
        var nonce = output.AsSpan(0, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plain, output.AsSpan(NonceSize + TagSize), output.AsSpan(NonceSize, TagSize));
        return Convert.ToBase64String(output);
    }

    public string Decrypt(string ciphertext)
    {
        var input = Convert.FromBase64String(ciphertext);
        if (input.Length < NonceSize + TagSize)
        {
            throw new CryptographicException("ciphertext too short");
        }

        var plain = new byte[input.Length - NonceSize - TagSize];
        using var aes = new AesGcm(key, TagSize);
        aes.Decrypt(input.AsSpan(0, NonceSize), input.AsSpan(NonceSize + TagSize), input.AsSpan(NonceSize, TagSize), plain);
        return Encoding.UTF8.GetString(plain);
    }
}

/// <summary>Files only the owner may read (tokens, keys, endpoints): created 0600 before anything is written.</summary>
public static class PrivateFile
{
    public static void Write(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(content);
        }

        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
