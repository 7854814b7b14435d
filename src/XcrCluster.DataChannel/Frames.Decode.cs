using System.Buffers.Binary;
using XcrCluster.Vhd;

namespace XcrCluster.DataChannel;

/// <summary>The receiving half of the wire format: block frames back into blocks.</summary>
public static partial class Frames
{
    /// <summary>Shared all-zero memory that Z frames' data points at (read-only: nothing writes into a block);
    /// grown on first use to the largest zero block seen, which <see cref="MaxPayload"/> bounds.</summary>
    private static byte[] zeros = [];

    /// <summary>
    /// The block of a B, Z or C frame, decoded in place: the frame's pooled buffer becomes the block's (a B frame's
    /// payload is index, bitmap length, then bitmap and data back to back, as a block holds them), so a block
    /// that crosses the channel is copied once on the receiving side, into the frame, as a local block is copied
    /// once, into its buffer, from the export. A Z frame's data is shared zeros; only a C frame needs a second
    /// buffer, to decompress into. The block owns the frame's buffer from here on (or gives it back at once for a C
    /// frame, and on any error).
    /// </summary>
    public static PooledBlock TakeBlock(Frame frame)
    {
        byte[]? unpacked = null;
        try
        {
            var (index, bitmapLength, dataLength) = BlockHeader(frame.Type, frame.Payload);
            switch (frame.Type)
            {
                case Block:
                    return new PooledBlock(new VhdBlock(index, frame.Buffer.AsMemory(8, bitmapLength),
                        frame.Buffer.AsMemory(8 + bitmapLength, dataLength)), frame.Buffer, 1, frame.Pool);
                case ZeroBlock:
                    return new PooledBlock(new VhdBlock(index, frame.Buffer.AsMemory(8, bitmapLength), Zeros(dataLength)),
                        frame.Buffer, 1, frame.Pool);
                default:
                    unpacked = frame.Pool.Rent(bitmapLength + dataLength);
                    var block = new PooledBlock(DecodeBlock(frame.Type, frame.Payload, unpacked), unpacked, 1, frame.Pool);
                    unpacked = null;
                    frame.Return();
                    return block;
            }
        }
        catch
        {
            if (unpacked is not null)
            {
                frame.Pool.Return(unpacked);
            }

            frame.Return();
            throw;
        }
    }

    /// <summary>Decodes a B, Z or C payload into <paramref name="buffer"/> (bitmap then data, as a VHD block holds
    /// them); returns the block over that buffer.</summary>
    public static VhdBlock DecodeBlock(byte type, ReadOnlySpan<byte> payload, byte[] buffer)
    {
        var (index, bitmapLength, dataLength) = BlockHeader(type, payload);
        if (bitmapLength + dataLength > buffer.Length)
        {
            throw new InvalidDataException(
                $"block frame {index}: {bitmapLength + dataLength} bytes do not fit a {buffer.Length}-byte buffer");
        }

        switch (type)
        {
            case CompressedBlock:
                payload.Slice(12, bitmapLength).CopyTo(buffer);
                var unpacked = K4os.Compression.LZ4.LZ4Codec.Decode(
                    payload[(12 + bitmapLength)..], buffer.AsSpan(bitmapLength, dataLength));
                if (unpacked != dataLength)
                {
                    throw new InvalidDataException($"compressed block frame {index}: {unpacked} bytes decoded, {dataLength} expected");
                }

                break;
            case ZeroBlock:
                payload.Slice(8, bitmapLength).CopyTo(buffer);
                buffer.AsSpan(bitmapLength, dataLength).Clear();
                break;
            default:
                payload[8..].CopyTo(buffer);
                break;
        }

        return new VhdBlock(index, buffer.AsMemory(0, bitmapLength), buffer.AsMemory(bitmapLength, dataLength));
    }

    /// <summary>The size a decoded block needs: bitmap plus data, zero or compressed data included; a size
    /// beyond any VHD block is refused before anything is allocated for it.</summary>
    public static int DecodedSize(byte type, ReadOnlySpan<byte> payload)
    {
        var (_, bitmapLength, dataLength) = BlockHeader(type, payload);
        return bitmapLength + dataLength;
    }

    /// <summary>A block frame's index, bitmap length and (decoded) data length, checked against the frame and
    /// <see cref="MaxPayload"/>.</summary>
    private static (int Index, int BitmapLength, int DataLength) BlockHeader(byte type, ReadOnlySpan<byte> payload)
    {
        if (payload.Length < (type == Block ? 8 : 12))
        {
            throw new InvalidDataException($"block frame '{(char)type}': truncated header");
        }

        var index = BinaryPrimitives.ReadInt32BigEndian(payload);
        var bitmapLength = BinaryPrimitives.ReadInt32BigEndian(payload[4..]);
        var (bitmapAt, dataLength) = type switch
        {
            CompressedBlock => (12, BinaryPrimitives.ReadInt32BigEndian(payload[8..])),
            ZeroBlock => (8, BinaryPrimitives.ReadInt32BigEndian(payload[^4..])),
            Block => (8, payload.Length - 8 - bitmapLength),
            _ => throw new InvalidDataException($"not a block frame: '{(char)type}'"),
        };
        var framed = type == ZeroBlock ? payload.Length == 12 + bitmapLength : bitmapLength <= payload.Length - bitmapAt;
        if (index < 0 || bitmapLength < 0 || dataLength < 0 || !framed || (long)bitmapLength + dataLength > MaxPayload)
        {
            throw new InvalidDataException($"block frame '{(char)type}': index {index}, bitmap {bitmapLength}, data {dataLength} bytes "
                + $"do not fit the {payload.Length}-byte frame or a block");
        }

        return (index, bitmapLength, dataLength);
    }

    private static ReadOnlyMemory<byte> Zeros(int length)
    {
        var shared = Volatile.Read(ref zeros);
        if (shared.Length < length)
        {
            shared = new byte[length];
            Volatile.Write(ref zeros, shared);
        }

        return shared.AsMemory(0, length);
    }
}
