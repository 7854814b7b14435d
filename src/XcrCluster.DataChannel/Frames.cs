using System.Buffers.Binary;
using System.Text;
using Akka.IO;
using XcrCluster.Vhd;

namespace XcrCluster.DataChannel;

/// <summary>
/// The wire format, one frame = type (1 byte) + payload length (4 bytes, big-endian) + payload.
/// Sender to receiver: <c>H</c> hello (transfer id and one-time token, UTF-8, newline-separated), then per block
/// <c>B</c> (index, bitmap length, bitmap, data) or <c>Z</c> (index, bitmap length, bitmap, data length: the data
/// is all zeros and not sent) or <c>C</c> (index, bitmap length, data length, bitmap, LZ4 data: only when it
/// is smaller), then <c>E</c> (block count); the blocks only once the receiver said <c>G</c>. Receiver to sender:
/// <c>G</c> once the token is accepted, then one <c>S</c> status ("ok" or the error) when the transfer has been
/// consumed, or only the status when refused.
/// </summary>
public static partial class Frames
{
    public const byte Hello = (byte)'H';
    public const byte Block = (byte)'B';
    public const byte ZeroBlock = (byte)'Z';
    public const byte CompressedBlock = (byte)'C';
    public const byte End = (byte)'E';
    public const byte Status = (byte)'S';

    /// <summary>Receiver to sender: the token is accepted, send the blocks (see <see cref="AdmissionGate"/>).</summary>
    public const byte Go = (byte)'G';

    /// <summary>Receiver to sender, every third of the stall timeout until the status: the link and the receiver are
    /// alive. A sender that hears nothing for the stall timeout, its blocks all in the sockets' buffers, knows the link
    /// is gone (a dropped partition shows no error, only silence) instead of waiting for the status forever.</summary>
    public const byte Alive = (byte)'A';
    public const int HeaderSize = 5;

    /// <summary>Larger frames are refused before anything is allocated for them (a 2 MiB block plus its bitmap
    /// fits many times over; VHD blocks are at most 32 MiB).</summary>
    public const int MaxPayload = 33 * 1024 * 1024;

    /// <summary>The largest hello (transfer id and token): the most a receiver buffers for a peer it does not know
    /// yet, so the first frame of a connection announcing more is refused at its header.</summary>
    public const int MaxHello = 4096;

    public static ByteString EncodeHello(string transferId, string token)
    {
        var hello = Text(Hello, transferId + "\n" + token);
        return hello.Count <= HeaderSize + MaxHello
            ? hello
            : throw new ArgumentException($"data channel: a hello of {hello.Count - HeaderSize} bytes, more than {MaxHello}");
    }

    public static (string TransferId, string Token) DecodeHello(ReadOnlySpan<byte> payload)
    {
        var text = Encoding.UTF8.GetString(payload);
        var cut = text.IndexOf('\n', StringComparison.Ordinal);
        return cut < 0 ? (text, "") : (text[..cut], text[(cut + 1)..]);
    }

    public static ByteString EncodeStatus(string status) => Text(Status, status);

    public static ByteString EncodeAlive() => Text(Alive, "");

    public static ByteString EncodeGo() => Text(Go, "");

    public static string DecodeText(ReadOnlySpan<byte> payload) => Encoding.UTF8.GetString(payload);

    public static ByteString EncodeEnd(long blocks)
    {
        var frame = new byte[HeaderSize + 8];
        WriteHeader(frame, End, 8);
        BinaryPrimitives.WriteInt64BigEndian(frame.AsSpan(HeaderSize), blocks);
        return ByteString.FromBytes(frame);
    }

    /// <summary>A block frame: all-zero data elided; with <paramref name="compress"/>, LZ4 data when that is
    /// smaller; else the block's own memory, shared (no copy).</summary>
    public static ByteString EncodeBlock(VhdBlock block, bool compress)
    {
        if (compress && block.Data.Span.ContainsAnyExcept((byte)0))
        {
            var scratch = System.Buffers.ArrayPool<byte>.Shared.Rent(K4os.Compression.LZ4.LZ4Codec.MaximumOutputSize(block.Data.Length));
            try
            {
                var packed = K4os.Compression.LZ4.LZ4Codec.Encode(block.Data.Span, scratch);
                if (packed > 0 && packed < block.Data.Length * 9 / 10)
                {
                    var head = new byte[HeaderSize + 12];
                    WriteHeader(head, CompressedBlock, 12 + block.Bitmap.Length + packed);
                    BinaryPrimitives.WriteInt32BigEndian(head.AsSpan(HeaderSize), block.Index);
                    BinaryPrimitives.WriteInt32BigEndian(head.AsSpan(HeaderSize + 4), block.Bitmap.Length);
                    BinaryPrimitives.WriteInt32BigEndian(head.AsSpan(HeaderSize + 8), block.Data.Length);
                    return ByteString.FromBytes(head).Concat(Share(block.Bitmap)).Concat(ByteString.CopyFrom(scratch, 0, packed));
                }
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(scratch);
            }
        }

        return EncodeBlock(block);
    }

    /// <summary>A block frame that shares the block's memory (no copy); all-zero data is elided.</summary>
    public static ByteString EncodeBlock(VhdBlock block)
    {
        var zero = !block.Data.Span.ContainsAnyExcept((byte)0);
        var head = new byte[HeaderSize + 8 + (zero ? 4 : 0)];
        var payload = 8 + block.Bitmap.Length + (zero ? 4 : block.Data.Length);
        WriteHeader(head, zero ? ZeroBlock : Block, payload);
        BinaryPrimitives.WriteInt32BigEndian(head.AsSpan(HeaderSize), block.Index);
        BinaryPrimitives.WriteInt32BigEndian(head.AsSpan(HeaderSize + 4), block.Bitmap.Length);
        if (zero)
        {
            // The data length goes after the bitmap: move it into a trailer.
            var trailer = new byte[4];
            BinaryPrimitives.WriteInt32BigEndian(trailer, block.Data.Length);
            return ByteString.FromBytes(head, 0, HeaderSize + 8).Concat(Share(block.Bitmap)).Concat(ByteString.FromBytes(trailer));
        }

        return ByteString.FromBytes(head).Concat(Share(block.Bitmap)).Concat(Share(block.Data));
    }

    internal static void WriteHeader(Span<byte> frame, byte type, int payload)
    {
        frame[0] = type;
        BinaryPrimitives.WriteInt32BigEndian(frame[1..], payload);
    }

    private static ByteString Text(byte type, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        var frame = new byte[HeaderSize + bytes.Length];
        WriteHeader(frame, type, bytes.Length);
        bytes.CopyTo(frame, HeaderSize);
        return ByteString.FromBytes(frame);
    }

    /// <summary>Wraps memory without copying when it is a whole array segment (pooled block buffers are).</summary>
    private static ByteString Share(ReadOnlyMemory<byte> memory)
        => System.Runtime.InteropServices.MemoryMarshal.TryGetArray(memory, out var segment)
            ? ByteString.FromBytes(segment.Array!, segment.Offset, segment.Count)
            : ByteString.CopyFrom(memory.ToArray());
}
