using System.Buffers;

namespace XcrCluster.DataChannel.Tests;

/// <summary>A bounded pool of its own that counts what is rented from it and given back, so a test sees every
/// buffer a path takes and whether it comes back.</summary>
public sealed class CountingPool : ArrayPool<byte>
{
    private readonly ArrayPool<byte> inner = Create(8 << 20, 16);
    private int rented;
    private int returned;

    public int Rented => Volatile.Read(ref rented);

    public int Returned => Volatile.Read(ref returned);

    public override byte[] Rent(int minimumLength)
    {
        Interlocked.Increment(ref rented);
        return inner.Rent(minimumLength);
    }

    public override void Return(byte[] array, bool clearArray = false)
    {
        Interlocked.Increment(ref returned);
        inner.Return(array, clearArray);
    }
}
