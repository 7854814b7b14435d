using System.Diagnostics;
using Xunit.Abstractions;

namespace XcrCluster.Vhd.Tests;

/// <summary>
/// Mutation tests with fixed seeds over a few small valid VHDs (dynamic and differencing; ours, written by the
/// stream writer and by VhdFile, and one by qemu-img). Corrupt metadata must end in a VhdFormatException or a
/// successful read, within a time and an allocation bound; corrupt data must show up exactly where it is visible.
/// </summary>
public sealed class MutationTests : IDisposable
{
    private const int Sector = VhdConstants.SectorSize;
    private const long AllocationCap = 48L * 1024 * 1024;
    private const long SequentialReadCap = 4L * 1024 * 1024;
    private static readonly TimeSpan CaseLimit = TimeSpan.FromSeconds(5);

    private readonly TempDir dir = new();
    private readonly ITestOutputHelper output;

    public MutationTests(ITestOutputHelper output) => this.output = output;

    public void Dispose() => dir.Dispose();

    [Fact]
    public async Task Corrupt_metadata_is_rejected_or_read_within_time_and_allocation_bounds()
    {
        var subjects = await BuildSubjectsAsync();
        var total = subjects.Sum(s => s.MetadataCases);
        Assert.True(total >= 10_000);

        var clock = Stopwatch.StartNew();
        var chunk = new byte[64 * 1024];
        var streamFields = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var fileFields = new SortedDictionary<string, int>(StringComparer.Ordinal);
        int streamRejected = 0, fileRejected = 0, bothRead = 0;
        long maxAllocated = 0;
        var slowest = (Time: TimeSpan.Zero, Label: "");
        foreach (var subject in subjects)
        {
            for (var i = 0; i < subject.MetadataCases; i++)
            {
                var rng = new Random((subject.Seed * 1_000_003) + i);
                var image = Mutate(subject, rng, out var what);
                var label = $"{subject.Name} case {i} ({what})";
                File.WriteAllBytes(subject.Path, image);

                var seekable = i % 2 == 0;
                var started = clock.Elapsed;
                using var cts = new CancellationTokenSource(CaseLimit);
                CaseResult result;
                try
                {
                    result = await Task.Run(() => RunCase(image, subject.Path, seekable, chunk, cts.Token)).WaitAsync(CaseLimit);
                }
                catch (TimeoutException)
                {
                    Assert.Fail($"{label}: still running after {CaseLimit.TotalSeconds} s");
                    throw;
                }

                var elapsed = clock.Elapsed - started;
                slowest = elapsed > slowest.Time ? (elapsed, label) : slowest;

                Assert.True(result.Stream.Unexpected is null, $"{label}: stream reader ({(seekable ? "seekable" : "non-seekable")}) threw {result.Stream.Unexpected}");
                Assert.True(result.File.Unexpected is null, $"{label}: VhdFile threw {result.File.Unexpected}");
                Assert.True(result.Allocated < AllocationCap, $"{label}: allocated {result.Allocated} bytes");
                maxAllocated = Math.Max(maxAllocated, result.Allocated);
                Count(streamFields, result.Stream.Field, ref streamRejected);
                Count(fileFields, result.File.Field, ref fileRejected);
                bothRead += result.Stream.Field is null && result.File.Field is null ? 1 : 0;
            }
        }

        output.WriteLine($"{total} cases in {clock.Elapsed.TotalSeconds:F1} s (most allocated {maxAllocated / 1024} KiB)");
        output.WriteLine($"slowest {slowest.Time.TotalMilliseconds:F0} ms: {slowest.Label}");
        output.WriteLine($"stream reader rejected {streamRejected}: {string.Join(", ", streamFields.Select(f => $"{f.Key} {f.Value}"))}");
        output.WriteLine($"VhdFile rejected {fileRejected}: {string.Join(", ", fileFields.Select(f => $"{f.Key} {f.Value}"))}");
        output.WriteLine($"both read the whole disk: {bothRead}");

        // The mutations reach both outcomes and many different checks, not just the checksums.
        Assert.InRange(streamRejected, total / 5, total - (total / 20));
        Assert.InRange(fileRejected, total / 5, total - (total / 20));
        Assert.True(bothRead > total / 20, $"only {bothRead} cases read through");
        foreach (var field in new[] { "footer.checksum", "header.checksum", "footer.current_size", "header.block_size", "header.max_table_entries", "header.table_offset", "bat[]", "header.parent_locator[]" })
        {
            Assert.True(streamFields.ContainsKey(field) && fileFields.ContainsKey(field), $"no case was rejected for {field}");
        }

        Assert.Contains("block", streamFields.Keys);
        Assert.Contains("header.parent_unique_id", fileFields.Keys);
        Assert.Contains("header.parent_unicode_name", fileFields.Keys);
    }

    [Fact]
    public async Task Corrupt_data_bytes_change_exactly_those_bytes_of_the_content()
    {
        var subjects = await BuildSubjectsAsync();
        int visible = 0, hidden = 0;
        foreach (var subject in subjects)
        {
            var allocated = subject.Bat.AllocatedIndices().ToArray();
            for (var i = 0; i < subject.DataCases; i++)
            {
                var rng = new Random((subject.Seed * 7919) + i);
                var image = subject.Image.ToArray();
                var expected = subject.Content.ToArray();
                for (var edit = rng.Next(1, 9); edit > 0; edit--)
                {
                    var index = allocated[rng.Next(allocated.Length)];
                    var within = rng.Next(subject.Header.BlockSize);
                    var at = subject.Bat.BlockOffset(index) + subject.Header.BitmapSize + within;
                    image[at] ^= (byte)rng.Next(1, 256);
                    var bitmap = subject.Image.AsSpan((int)subject.Bat.BlockOffset(index), subject.Header.BitmapSize);
                    var virtualOffset = ((long)index * subject.Header.BlockSize) + within;
                    if (virtualOffset < subject.Content.Length && SectorBitmap.IsSet(bitmap, within / Sector))
                    {
                        expected[virtualOffset] = image[at];
                        visible++;
                    }
                    else
                    {
                        hidden++;
                    }
                }

                var label = $"{subject.Name} data case {i}";
                AssertSameContent(expected, await StreamContentAsync(image, subject.BaseContent, seekable: i % 2 == 0), label + " (stream)");
                File.WriteAllBytes(subject.Path, image);
                AssertSameContent(expected, FileContent(subject.Path), label + " (file)");
            }
        }

        output.WriteLine($"{visible} visible and {hidden} hidden data byte edits");
        Assert.True(visible > 500 && hidden > 100, $"{visible} visible, {hidden} hidden edits");
    }

    private sealed record Subject(string Name, int Seed, byte[] Image, string Path, byte[] Content, byte[]? BaseContent,
        VhdHeader Header, BlockAllocationTable Bat, int MetadataCases, int DataCases);

    private readonly record struct Outcome(string? Field, string? Unexpected);

    private readonly record struct CaseResult(Outcome Stream, Outcome File, long Allocated);

    /// <summary>Both readers, on the calling thread: the stream reader over a MemoryStream completes synchronously,
    /// so the thread's allocation counter sees everything either reader allocates.</summary>
    private static CaseResult RunCase(byte[] image, string path, bool seekable, byte[] chunk, CancellationToken ct)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var stream = Observe(() =>
        {
            var read = ConsumeStreamAsync(image, seekable, ct);
            if (!read.IsCompleted)
            {
                throw new InvalidOperationException("the stream reader did not complete synchronously over a MemoryStream");
            }

            read.GetAwaiter().GetResult();
        });
        var file = Observe(() => ConsumeFile(path, chunk, ct));
        return new CaseResult(stream, file, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static Outcome Observe(Action read)
    {
        try
        {
            read();
            return default;
        }
        catch (VhdFormatException e)
        {
            return new Outcome(e.Field, null);
        }
        catch (Exception e)
        {
            return new Outcome(null, e.ToString());
        }
    }

    private static async Task<int> ConsumeStreamAsync(byte[] image, bool seekable, CancellationToken ct)
    {
        Stream stream = new MemoryStream(image, writable: false);
        stream = seekable ? stream : new NonSeekableStream(stream);
        var reader = await VhdStreamReader.OpenAsync(stream, ct);
        var present = 0;
        await foreach (var block in reader.ReadBlocksAsync(ct))
        {
            // As an importer would: every sector's bit, and the data of the sectors present (a block's memory must cover them).
            for (var s = 0; s < reader.Header.SectorsPerBlock; s++)
            {
                if (SectorBitmap.IsSet(block.Bitmap.Span, s))
                {
                    present += block.Data.Span.Slice(s * Sector, Sector).IndexOfAnyExcept((byte)0) >= 0 ? 1 : 0;
                }
            }
        }

        if (reader.TrailingFooter is null)
        {
            throw new InvalidOperationException("the stream reader finished without a trailing footer");
        }

        return present;
    }

    /// <summary>Opens the file and reads its disk: the first 4 MiB, every allocated block past them and the last
    /// sector (a corrupt current_size can make the disk terabytes large).</summary>
    private static void ConsumeFile(string path, byte[] chunk, CancellationToken ct)
    {
        using var file = VhdFile.Open(path);
        var size = file.VirtualSize;
        var sequential = Math.Min(size, SequentialReadCap);
        ReadRange(file, 0, sequential, chunk, ct);
        foreach (var index in file.AllocatedBlocks())
        {
            var start = (long)index * file.BlockSize;
            if (start >= sequential)
            {
                ReadRange(file, start, Math.Min(size, start + file.BlockSize), chunk, ct);
            }
        }

        file.Read(size - Sector, chunk.AsSpan(0, Sector));
    }

    private static void ReadRange(VhdFile file, long start, long end, byte[] chunk, CancellationToken ct)
    {
        for (var offset = start; offset < end; offset += chunk.Length)
        {
            ct.ThrowIfCancellationRequested();
            file.Read(offset, chunk.AsSpan(0, (int)Math.Min(chunk.Length, end - offset)));
        }
    }

    private static void Count(SortedDictionary<string, int> fields, string? field, ref int rejected)
    {
        if (field is null)
        {
            return;
        }

        rejected++;
        var key = field.StartsWith("block ", StringComparison.Ordinal) ? "block" : field.Contains('[') ? field[..(field.IndexOf('[') + 1)] + "]" : field;
        fields[key] = fields.GetValueOrDefault(key) + 1;
    }

    // ---- Mutations ----

    private enum Kind
    {
        FooterCopy,
        Header,
        Locators,
        LocatorData,
        Bat,
        Bitmap,
        TrailingFooter,
    }

    private static readonly (int Offset, int Width)[] FooterFields =
        [(0, 8), (8, 4), (12, 4), (16, 8), (24, 4), (28, 4), (32, 4), (36, 4), (40, 8), (48, 8), (56, 2), (58, 1), (59, 1), (60, 4), (64, 4), (68, 16), (84, 1), (85, 1)];

    private static readonly (int Offset, int Width)[] HeaderFields =
        [(0, 8), (8, 8), (16, 8), (24, 4), (28, 4), (32, 4), (36, 4), (40, 16), (56, 4), (60, 4), (64, 2), (66, 2), (84, 2), (574, 2), (768, 8)];

    private static readonly (int Offset, int Width)[] LocatorFields = [(0, 4), (4, 4), (8, 4), (12, 4), (16, 8)];

    /// <summary>Returns a corrupted copy of the subject's image and says what was done to it.</summary>
    private static byte[] Mutate(Subject s, Random rng, out string what)
    {
        var image = s.Image.ToArray();
        var roll = rng.Next(100);
        if (roll < 4)
        {
            var length = rng.Next(2) == 0 ? rng.Next(image.Length) : image.Length - rng.Next(1, 2 * Sector);
            what = $"truncated to {length}";
            return image[..length];
        }

        if (roll < 7)
        {
            var extra = new byte[rng.Next(1, 3 * Sector)];
            if (rng.Next(2) == 0)
            {
                rng.NextBytes(extra);
            }

            what = $"{extra.Length} bytes appended";
            return [.. image, .. extra];
        }

        if (roll < 15)
        {
            // Plausible values that pass the field's own check, checksums fixed: what lies behind the first checks.
            what = EditCoherently(s, image, rng) + "; checksums fixed";
            VhdPatch.FixAllChecksums(image);
            return image;
        }

        var edits = new List<string>();
        for (var n = rng.Next(4) == 0 ? rng.Next(2, 4) : 1; n > 0; n--)
        {
            edits.Add(roll < 40 ? EditBytes(s, image, rng) : roll < 85 ? EditField(s, image, rng) : EditBat(s, image, rng));
            roll = rng.Next(7, 100);
        }

        if (rng.Next(2) == 0)
        {
            VhdPatch.FixAllChecksums(image);
            edits.Add("checksums fixed");
        }

        what = string.Join("; ", edits);
        return image;
    }

    private static (Kind Kind, long Start, int Length) PickRegion(Subject s, Random rng)
    {
        var trailing = s.Image.Length - Sector;
        var roll = rng.Next(100);
        if (roll < 15)
        {
            return (Kind.FooterCopy, 0, Sector);
        }

        if (roll < 35)
        {
            return (Kind.Header, VhdConstants.HeaderOffset, VhdConstants.HeaderSize);
        }

        if (roll < 45)
        {
            return (Kind.Locators, VhdConstants.HeaderOffset + 576, ParentLocator.Count * ParentLocator.EntrySize);
        }

        if (roll < 50 && s.Header.TableOffset >= 2048)
        {
            return (Kind.LocatorData, 1536, Sector);
        }

        if (roll < 70)
        {
            return (Kind.Bat, s.Header.TableOffset, (int)s.Header.TableSize);
        }

        if (roll < 85)
        {
            var allocated = s.Bat.AllocatedIndices().ToArray();
            var index = allocated[rng.Next(allocated.Length)];
            return (Kind.Bitmap, s.Bat.BlockOffset(index), s.Header.BitmapSize);
        }

        return (Kind.TrailingFooter, trailing, Sector);
    }

    /// <summary>One to four random bytes of one structure flipped or overwritten.</summary>
    private static string EditBytes(Subject s, byte[] image, Random rng)
    {
        var (kind, start, length) = PickRegion(s, rng);
        var count = rng.Next(1, 5);
        for (var k = 0; k < count; k++)
        {
            var at = start + rng.Next(length);
            image[at] = rng.Next(3) switch
            {
                0 => (byte)(image[at] ^ (1 << rng.Next(8))),
                1 => (byte)rng.Next(256),
                _ => new byte[] { 0x00, 0xFF, 0x80, 0x7F, 0x01 }[rng.Next(5)],
            };
        }

        return $"{count} bytes of {kind}";
    }

    /// <summary>A whole field of the footer (copy, trailing or both), the header or a locator set to a boundary value.</summary>
    private static string EditField(Subject s, byte[] image, Random rng)
    {
        var trailing = image.Length - Sector;
        switch (rng.Next(10))
        {
            case < 4:
            {
                var (offset, width) = FooterFields[rng.Next(FooterFields.Length)];
                var where = rng.Next(3);
                var value = NextValue(s, rng, ReadField(image, offset, width), width);
                foreach (var footer in where switch { 0 => new long[] { 0 }, 1 => [trailing], _ => [0, trailing] })
                {
                    WriteField(image, footer + offset, width, value, rng);
                }

                return $"footer{(where == 0 ? " copy" : where == 1 ? " trailing" : "s")}[{offset}] = 0x{value:X}";
            }

            case < 8:
            {
                var (offset, width) = HeaderFields[rng.Next(HeaderFields.Length)];
                var value = NextValue(s, rng, ReadField(image, 512 + offset, width), width);
                WriteField(image, 512 + offset, width, value, rng);
                return $"header[{offset}] = 0x{value:X}";
            }

            default:
            {
                var entry = rng.Next(4) == 0 ? rng.Next(ParentLocator.Count) : 0;
                var (offset, width) = LocatorFields[rng.Next(LocatorFields.Length)];
                var at = 512 + 576 + (entry * ParentLocator.EntrySize) + offset;
                if (offset == 0 && rng.Next(2) == 0)
                {
                    var code = new[] { ParentLocator.MacX, ParentLocator.W2ku, ParentLocator.W2ru, 0x57693272u, 1u }[rng.Next(5)];
                    VhdPatch.WriteU32(image, at, code);
                    return $"locator {entry} platform 0x{code:X8}";
                }

                var value = NextValue(s, rng, ReadField(image, at, width), width);
                WriteField(image, at, width, value, rng);
                return $"locator {entry}[{offset}] = 0x{value:X}";
            }
        }
    }

    /// <summary>A field set to a value its own check accepts: another block size, disk size, BAT length or place, locator.</summary>
    private static string EditCoherently(Subject s, byte[] image, Random rng)
    {
        switch (rng.Next(5))
        {
            case 0:
            {
                var blockSize = 512u << rng.Next(17); // 512 B .. 32 MiB
                VhdPatch.WriteU32(image, 512 + 32, blockSize);
                if (rng.Next(2) == 0)
                {
                    return $"block size {blockSize}";
                }

                // Larger blocks overlap their neighbours: keep one, so that it gets read.
                var keep = s.Bat.AllocatedIndices().ElementAt(rng.Next(s.Bat.AllocatedIndices().Count()));
                foreach (var index in s.Bat.AllocatedIndices().Where(i => i != keep))
                {
                    VhdPatch.WriteU32(image, s.Header.TableOffset + (4L * index), VhdConstants.UnallocatedBlock);
                }

                return $"block size {blockSize}, only block {keep} kept";
            }

            case 1:
            {
                var capacity = (long)s.Header.MaxTableEntries * s.Header.BlockSize;
                var size = (ulong)(rng.NextInt64(1, (capacity / Sector) + 2) * Sector);
                foreach (var footer in new long[] { 0, image.Length - Sector })
                {
                    VhdPatch.WriteU64(image, footer + 48, size);
                }

                return $"current size {size} in both footers";
            }

            case 2:
            {
                var needed = (s.Content.Length + s.Header.BlockSize - 1) / s.Header.BlockSize;
                var entries = rng.Next(3) switch
                {
                    0 => (uint)Math.Max(0, needed - 1),
                    1 => (uint)rng.Next(needed, needed * 4),
                    _ => VhdConstants.MaxTableEntries - (uint)rng.Next(2),
                };
                VhdPatch.WriteU32(image, 512 + 28, entries);
                return $"max table entries {entries}";
            }

            case 3:
            {
                var table = (ulong)(rng.Next(3, (image.Length / Sector) + 4) * Sector);
                VhdPatch.WriteU64(image, 512 + 16, table);
                return $"table offset {table}";
            }

            default:
            {
                var entry = rng.Next(ParentLocator.Count);
                var at = 512 + 576 + (entry * ParentLocator.EntrySize);
                var space = (uint)rng.Next(1, 4);
                VhdPatch.WriteU32(image, at, ParentLocator.W2ku);
                VhdPatch.WriteU32(image, at + 4, space);
                VhdPatch.WriteU32(image, at + 8, (uint)rng.Next((int)space * Sector + 1));
                var offset = (ulong)(rng.Next(3, image.Length / Sector) * Sector);
                VhdPatch.WriteU64(image, at + 16, offset);
                return $"locator {entry} at {offset}";
            }
        }
    }

    /// <summary>BAT entries duplicated, shifted, swapped, dropped, or pointed anywhere in (or past) the file.</summary>
    private static string EditBat(Subject s, byte[] image, Random rng)
    {
        var allocated = s.Bat.AllocatedIndices().ToArray();
        var entries = s.Header.MaxTableEntries;
        var a = rng.Next(3) == 0 ? rng.Next(entries) : allocated[rng.Next(allocated.Length)];
        var b = allocated[rng.Next(allocated.Length)];
        long At(int index) => s.Header.TableOffset + (4L * index);
        var blockSectors = (uint)(s.Header.BlockTotalSize / Sector);
        switch (rng.Next(5))
        {
            case 0:
            {
                var delta = new[] { 0, 1, -1, (int)blockSectors - 1, -(int)blockSectors + 1, (int)blockSectors, rng.Next(-3, 4) }[rng.Next(7)];
                VhdPatch.WriteU32(image, At(a), (uint)(VhdPatch.ReadU32(image, At(b)) + delta));
                return $"bat[{a}] = bat[{b}] {delta:+0;-0}";
            }

            case 1:
            {
                var old = VhdPatch.ReadU32(image, At(a));
                VhdPatch.WriteU32(image, At(a), VhdPatch.ReadU32(image, At(b)));
                VhdPatch.WriteU32(image, At(b), old);
                return $"bat[{a}] <-> bat[{b}]";
            }

            case 2:
                VhdPatch.WriteU32(image, At(b), VhdConstants.UnallocatedBlock);
                return $"bat[{b}] unallocated";

            case 3:
            {
                var sector = (uint)rng.Next((image.Length / Sector) + 16);
                VhdPatch.WriteU32(image, At(a), sector);
                return $"bat[{a}] = {sector}";
            }

            default:
            {
                var sector = new[] { 0u, 1u, 3u, 4u, (uint)(s.Header.TableEnd / Sector) - 1, (uint)(image.Length / Sector) - 1, (uint)(image.Length / Sector), 0x7FFFFFFFu, 0xFFFFFFFEu }[rng.Next(9)];
                VhdPatch.WriteU32(image, At(a), sector);
                return $"bat[{a}] = {sector}";
            }
        }
    }

    /// <summary>A boundary value for a field: small numbers, powers of two, sizes of this image, the library's limits,
    /// or the old value nudged.</summary>
    private static ulong NextValue(Subject s, Random rng, ulong old, int width)
    {
        var length = (ulong)s.Image.Length;
        ulong[] candidates =
        [
            0, 1, 2, 3, 7, 0x7F, 0x80, 0xFF, 511, 512, 513, 1024, 1536, 2048, 4096, 0x10000, 0x200000,
            1UL << rng.Next(64), ulong.MaxValue, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0xFFFFFFFE,
            length, length - 512, length / 512, (length / 512) - 1,
            (ulong)s.Header.TableOffset, (ulong)s.Header.BlockSize, (ulong)s.Header.MaxTableEntries, (ulong)s.Header.MaxTableEntries + 1,
            (ulong)s.Content.Length, (ulong)s.Content.Length + 512, (ulong)s.Content.Length * 2,
            VhdConstants.MaxBlockSize, VhdConstants.MaxBlockSize * 2UL, VhdConstants.MaxTableEntries, VhdConstants.MaxTableEntries + 1UL,
            (ulong)VhdConstants.MaxDiskSize, (ulong)VhdConstants.MaxDiskSize + 512, 1UL << 40,
            old + 1, old - 1, old + 512, old - 512, old << 1, old >> 1, old ^ (1UL << rng.Next(width * 8)),
            ((ulong)rng.Next() << 32) | (uint)rng.Next(),
        ];
        var value = candidates[rng.Next(candidates.Length)];
        return width >= 8 ? value : value & ((1UL << (width * 8)) - 1);
    }

    private static ulong ReadField(byte[] image, long at, int width)
    {
        ulong value = 0;
        for (var k = 0; k < Math.Min(width, 8); k++)
        {
            value = (value << 8) | image[at + k];
        }

        return value;
    }

    /// <summary>Big-endian; a field wider than 8 bytes (a UUID) gets random bytes, zeros, or another UUID of the image.</summary>
    private static void WriteField(byte[] image, long at, int width, ulong value, Random rng)
    {
        if (width > 8)
        {
            var span = image.AsSpan((int)at, width);
            switch (rng.Next(3))
            {
                case 0:
                    rng.NextBytes(span);
                    break;
                case 1:
                    span.Clear();
                    break;
                default:
                    image.AsSpan(at == 512 + 40 ? 68 : 512 + 40, width).CopyTo(span); // own id <-> parent id
                    break;
            }

            return;
        }

        for (var k = width - 1; k >= 0; k--)
        {
            image[at + k] = (byte)value;
            value >>= 8;
        }
    }

    // ---- Subjects ----

    /// <summary>Five small valid VHDs, each with its content as VhdFile reads it and, for a child, its parent's content.</summary>
    private async Task<Subject[]> BuildSubjectsAsync()
    {
        var subjects = new List<Subject>
        {
            await StreamDynamicAsync(),
            FileDynamic(),
            FileDifferencing(),
            await StreamDifferencingAsync(),
            QemuDynamic(),
        };

        foreach (var s in subjects)
        {
            // The originals read the same through both readers.
            AssertSameContent(s.Content, await StreamContentAsync(s.Image, s.BaseContent, seekable: true), s.Name + " original (stream)");
            AssertSameContent(s.Content, FileContent(s.Path), s.Name + " original (file)");
            Assert.True(s.Bat.AllocatedIndices().Any());
        }

        return subjects.ToArray();
    }

    /// <summary>Stream writer, dynamic, 256 KiB at 4 KiB blocks, about a third of the blocks present.</summary>
    private async Task<Subject> StreamDynamicAsync()
    {
        const int blockSize = 4096;
        const long size = 256 * 1024;
        var rng = new Random(101);
        var content = new byte[size];
        var present = Enumerable.Range(0, (int)(size / blockSize)).Where(i => i == 63 || rng.Next(3) == 0).ToArray();
        using var stream = new MemoryStream();
        var writer = new VhdStreamWriter(stream, size, present, blockSize: blockSize);
        await writer.WriteHeadersAsync();
        foreach (var index in present)
        {
            rng.NextBytes(content.AsSpan(index * blockSize, blockSize));
            await writer.WriteBlockAsync(index, content.AsMemory(index * blockSize, blockSize));
        }

        await writer.CompleteAsync();
        var image = stream.ToArray();
        var path = dir.File("stream-dynamic.vhd");
        File.WriteAllBytes(path, image);
        AssertSameContent(content, FileContent(path), "stream-dynamic model");
        return Describe("stream-dynamic", 1, path, baseContent: null, metadataCases: 3000, dataCases: 200);
    }

    /// <summary>VhdFile, dynamic, 1 MiB - 3 sectors (a partial last block) at 16 KiB blocks, scattered writes.</summary>
    private Subject FileDynamic()
    {
        const long size = (1024 * 1024) - (3 * Sector);
        var path = dir.File("file-dynamic.vhd");
        var model = new byte[size];
        using (var file = VhdFile.CreateDynamic(path, size, new VhdCreateOptions { BlockSize = 16384, Durable = false }))
        {
            var rng = new Random(202);
            RandomWrites(file, model, rng, 7, maxSectors: 40);
            var last = new byte[2 * Sector];
            rng.NextBytes(last);
            file.Write(size - last.Length, last);
            last.CopyTo(model, size - last.Length);
        }

        AssertSameContent(model, FileContent(path), "file-dynamic model");
        return Describe("file-dynamic", 2, path, baseContent: null, metadataCases: 2500, dataCases: 200);
    }

    /// <summary>VhdFile, differencing at 8 KiB blocks over a 512 KiB dynamic parent; partial blocks, so partial bitmaps.</summary>
    private Subject FileDifferencing()
    {
        const long size = 512 * 1024;
        var options = new VhdCreateOptions { BlockSize = 8192, Durable = false };
        var path = dir.File("file-child.vhd");
        var model = new byte[size];
        byte[] baseContent;
        using (var parent = VhdFile.CreateDynamic(dir.File("file-base.vhd"), size, options))
        {
            var rng = new Random(303);
            RandomWrites(parent, model, rng, 10, maxSectors: 64);
            baseContent = model.ToArray();
            using var child = VhdFile.CreateDifferencing(path, parent, options);
            RandomWrites(child, model, rng, 12, maxSectors: 12);
        }

        AssertSameContent(model, FileContent(path), "file-child model");
        return Describe("file-child", 3, path, baseContent, metadataCases: 2300, dataCases: 200);
    }

    /// <summary>Stream writer, differencing at 32 KiB blocks with random partial bitmaps, over a VhdFile parent.</summary>
    private async Task<Subject> StreamDifferencingAsync()
    {
        const int blockSize = 32 * 1024;
        const long size = 768 * 1024;
        var rng = new Random(404);
        var baseContent = new byte[size];
        VhdParent record;
        using (var parent = VhdFile.CreateDynamic(dir.File("stream-base.vhd"), size, new VhdCreateOptions { BlockSize = blockSize, Durable = false }))
        {
            RandomWrites(parent, baseContent, rng, 6, maxSectors: 200);
            record = new VhdParent(parent.Footer.UniqueId, "stream-base.vhd", 0);
        }

        int[] present = [2, 9, 23];
        using var stream = new MemoryStream();
        var writer = new VhdStreamWriter(stream, size, present, record, blockSize);
        await writer.WriteHeadersAsync();
        foreach (var index in present)
        {
            var bitmap = new byte[writer.Header.BitmapSize];
            rng.NextBytes(bitmap.AsSpan(0, blockSize / Sector / 8));
            var data = new byte[blockSize];
            rng.NextBytes(data);
            await writer.WriteBlockAsync(index, data, bitmap);
        }

        await writer.CompleteAsync();
        var path = dir.File("stream-child.vhd");
        File.WriteAllBytes(path, stream.ToArray());
        return Describe("stream-child", 4, path, baseContent, metadataCases: 2000, dataCases: 200);
    }

    /// <summary>qemu-img, dynamic, 2 MiB blocks, 3 MiB + 4 KiB (a partial last block); bigger, so fewer cases.</summary>
    private Subject QemuDynamic()
    {
        const long size = (3 * 1024 * 1024) + 4096;
        var raw = RawImage.Random(size, 505, fill: 0.2);
        var rawPath = RawImage.Save(dir, "qemu.raw", raw);
        var path = dir.File("qemu.vhd");
        QemuImg.Run("convert", "-f", "raw", "-O", "vpc", "-o", "subformat=dynamic,force_size=on", rawPath, path);
        File.Delete(rawPath);
        AssertSameContent(raw, FileContent(path), "qemu raw");
        return Describe("qemu", 5, path, baseContent: null, metadataCases: 200, dataCases: 50);
    }

    private static Subject Describe(string name, int seed, string path, byte[]? baseContent, int metadataCases, int dataCases)
    {
        using var file = VhdFile.Open(path);
        return new Subject(name, seed, File.ReadAllBytes(path), path, FileContent(path), baseContent, file.Header, file.Bat, metadataCases, dataCases);
    }

    private static void RandomWrites(VhdFile file, byte[] model, Random rng, int count, int maxSectors)
    {
        var sectors = (int)(file.VirtualSize / Sector);
        for (var k = 0; k < count; k++)
        {
            var length = rng.Next(1, maxSectors + 1);
            var first = rng.Next(sectors - length + 1);
            var data = new byte[length * Sector];
            rng.NextBytes(data);
            file.Write((long)first * Sector, data);
            data.CopyTo(model, (long)first * Sector);
        }
    }

    // ---- Reading whole disks ----

    /// <summary>A stream applied as XAPI's import applies it: the set sectors of each block over the parent's content (or zeros).</summary>
    private static async Task<byte[]> StreamContentAsync(byte[] image, byte[]? baseContent, bool seekable)
    {
        Stream stream = new MemoryStream(image, writable: false);
        stream = seekable ? stream : new NonSeekableStream(stream);
        var reader = await VhdStreamReader.OpenAsync(stream);
        var content = baseContent?.ToArray() ?? new byte[reader.VirtualSize];
        await foreach (var block in reader.ReadBlocksAsync())
        {
            var start = (long)block.Index * reader.Header.BlockSize;
            for (var s = 0; s < reader.Header.SectorsPerBlock && start + ((long)s * Sector) < content.Length; s++)
            {
                if (SectorBitmap.IsSet(block.Bitmap.Span, s))
                {
                    block.Data.Span.Slice(s * Sector, Sector).CopyTo(content.AsSpan((int)(start + (s * Sector))));
                }
            }
        }

        Assert.NotNull(reader.TrailingFooter);
        return content;
    }

    private static byte[] FileContent(string path)
    {
        using var file = VhdFile.Open(path);
        var content = new byte[file.VirtualSize];
        file.Read(0, content);
        return content;
    }

    private static void AssertSameContent(byte[] expected, byte[] actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} bytes, expected {expected.Length}");
        var first = expected.AsSpan().CommonPrefixLength(actual);
        Assert.True(first == expected.Length, $"{what}: first difference at byte {first}");
    }
}
