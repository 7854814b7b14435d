using System.Globalization;
using System.Text;

namespace XcrCluster.XapiSim.Storage;

/// <summary>
/// The tar dialect of an XVA as XAPI writes it (ocaml/xapi-aux/tar_helpers.ml; ocaml-tar lib/tar.ml `Header.make`,
/// `imarshal`, compatibility_level V7): V7 headers, mode 0o400, uid = gid = 0, octal fields zero-padded to
/// width − 1 then NUL, data padded to 512, the archive ended by exactly two zero blocks. The reader also takes
/// ustar names (prefix/name), '0' as a regular file and skips pax 'x'/'g' headers (import.ml `TarHeaderReader`).
/// </summary>
public static class XvaTar
{
    public const int Block = 512;

    /// <summary>stream_vdi.ml `chunk_size`: one member per MiB of disk.</summary>
    public const int ChunkSize = 1024 * 1024;

    public static byte[] Header(string name, long size, long mtime)
    {
        var h = new byte[Block];
        var nameBytes = Encoding.ASCII.GetBytes(name);
        if (nameBytes.Length > 100)
        {
            throw new ArgumentException($"tar member name longer than 100 bytes: {name}", nameof(name));
        }

        nameBytes.CopyTo(h, 0);
        Octal(h, 100, 8, 0x100); // 0o400
        Octal(h, 108, 8, 0);
        Octal(h, 116, 8, 0);
        Octal(h, 124, 12, size);
        Octal(h, 136, 12, mtime);
        h.AsSpan(148, 8).Fill((byte)' ');
        var sum = 0L;
        foreach (var b in h)
        {
            sum += b;
        }

        Octal(h, 148, 8, sum);
        return h;
    }

    /// <summary>Zero bytes that pad a member of this size to a whole block.</summary>
    public static int Padding(long size) => (int)((Block - (size % Block)) % Block);

    /// <summary>stream_vdi.ml `send_one`: `Printf.sprintf "%s/%08d"`, decimal, of the VDI's ova.xml id.</summary>
    public static string ChunkName(string vdiId, long counter) => $"{vdiId}/{counter.ToString("D8", CultureInfo.InvariantCulture)}";

    /// <summary>The .xxhash member: `%016LX` of XXH64 with seed 0 (ocaml/xxhash xxhash_bindings.ml default_seed).</summary>
    public static string XxHashText(ReadOnlySpan<byte> data) => XxHash64(data).ToString("X16", CultureInfo.InvariantCulture);

    /// <summary>A header's name and size; null at the end-of-archive zero block. Throws on a corrupt header.</summary>
    public static (string Name, long Size, byte Type)? Parse(ReadOnlySpan<byte> h)
    {
        if (!h.ContainsAnyExcept((byte)0))
        {
            return null;
        }

        var stored = ParseOctal(h.Slice(148, 8));
        var sum = 0L;
        for (var i = 0; i < Block; i++)
        {
            sum += i is >= 148 and < 156 ? (byte)' ' : h[i];
        }

        if (stored != sum)
        {
            throw new InvalidDataException("tar header checksum mismatch");
        }

        var name = CString(h[..100]);
        if (h.Slice(257, 5).SequenceEqual("ustar"u8) && CString(h.Slice(345, 155)) is { Length: > 0 } prefix)
        {
            name = prefix + "/" + name;
        }

        return (name, ParseOctal(h.Slice(124, 12)), h[156]);
    }

    private static string CString(ReadOnlySpan<byte> field)
    {
        var end = field.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? field : field[..end]);
    }

    private static long ParseOctal(ReadOnlySpan<byte> field)
    {
        var value = 0L;
        foreach (var b in field)
        {
            if (b is (byte)' ' or 0)
            {
                if (value != 0)
                {
                    break;
                }

                continue;
            }

            if (b is < (byte)'0' or > (byte)'7')
            {
                throw new InvalidDataException("tar header has a non-octal number");
            }

            value = (value * 8) + (b - '0');
        }

        return value;
    }

    private static void Octal(byte[] h, int offset, int width, long value)
    {
        var text = Convert.ToString(value, 8).PadLeft(width - 1, '0');
        Encoding.ASCII.GetBytes(text).CopyTo(h, offset);
        h[offset + width - 1] = 0;
    }

    /// <summary>XXH64 with seed 0, as XAPI's xxhash bindings use it (`ocaml/xxhash/stubs/xxhash_bindings.ml`).</summary>
    public static ulong XxHash64(ReadOnlySpan<byte> data) => System.IO.Hashing.XxHash64.HashToUInt64(data);
}
