using FaceCluster.Tests.Support;
using FaceCluster.Common.IO;
using System.Collections.Concurrent;
using FaceCluster.Common.FaceSet;
using OpenCvSharp;

namespace FaceCluster.Tests.FaceSet;

[Trait("Tier", "unit")]
public class BatchPipelineTests
{
    private const int Size = 32;

    /// <summary>A face set of 12 images in 3 identities (mixed formats, non-square, gray), scanned.</summary>
    private static IReadOnlyList<FaceSample> BuildSet(ScratchFolder d)
    {
        for (int i = 0; i < 4; i++) d.Write($"alice/{i}.jpg", TestImages.FaceBytes(".jpg", i, 48, 40));
        for (int i = 0; i < 4; i++) d.Write($"bob/{i}.png", TestImages.FaceBytes(".png", 10 + i, 40, 56));
        for (int i = 0; i < 4; i++) d.Write($"carol/{i}.pgm", TestImages.FaceBytes(".pgm", 20 + i, 36, 36));
        return new FaceSetScanner(new ScanOptions(ValFraction: 0)).Scan(d.Path).Manifest.Samples;
    }

    private static Func<long, int[]?> Batches(IReadOnlyList<FaceSample> samples, int batchSize, int count)
        => k => k >= count ? null : Enumerable.Range(0, batchSize).Select(n => samples[(int)((k * batchSize + n) % samples.Count)].Id).ToArray();

    private static List<HostBatch> TakeAll(BatchPipeline p)
    {
        var list = new List<HostBatch>();
        while (p.Take() is { } b) list.Add(b);
        return list;
    }

    [Fact]
    public void Batches_have_the_documented_shape_and_range_in_order()
    {
        using var d = new ScratchFolder();
        var samples = BuildSet(d);
        using var p = new BatchPipeline(new LocalFaceImageSource(d.Path), samples, null, Size, BatchKind.Reconstruction,
            AugmentOptions.Default, baseSeed: 1, Batches(samples, 5, 4), workers: 2, depth: 2);
        var batches = TakeAll(p);
        Assert.Equal([0L, 1, 2, 3], batches.Select(b => b.BatchIndex));
        Assert.Null(p.Take());
        foreach (var b in batches)
        {
            Assert.Equal((5, Size), (b.Count, b.ImageSize));
            Assert.Equal(5 * 3 * Size * Size, b.Inputs.Length);
            Assert.Equal(b.Inputs.Length, b.Targets!.Length);
            Assert.Equal(Batches(samples, 5, 4)(b.BatchIndex), b.SampleIds);
            Assert.Empty(b.BadSamples);
            Assert.All(b.Inputs, v => Assert.InRange(v, 0f, 1f));
            Assert.All(b.Targets, v => Assert.InRange(v, 0f, 1f));
            Assert.NotEqual(b.Inputs, b.Targets);
        }
    }

    [Fact]
    public void Plain_batches_without_augmentation_hold_the_decoded_pixels_in_bgr_planes()
    {
        using var d = new ScratchFolder();
        using var img = new Mat(40, 60, MatType.CV_8UC3, new Scalar(10, 100, 200));
        d.Write("solid/a.png", TestImages.Encode(img, ".png"));
        var samples = new FaceSetScanner(new ScanOptions(MinImages: 1)).Scan(d.Path).Manifest.Samples;
        using var p = new BatchPipeline(new LocalFaceImageSource(d.Path), samples, null, Size, BatchKind.Plain,
            AugmentOptions.None, 0, k => k == 0 ? [samples[0].Id] : null, workers: 1);
        var b = p.Take()!;
        Assert.Null(b.Targets);
        int plane = Size * Size;
        Assert.All(b.Inputs[..plane], v => Assert.Equal(10 / 255f, v, 5));
        Assert.All(b.Inputs[plane..(2 * plane)], v => Assert.Equal(100 / 255f, v, 5));
        Assert.All(b.Inputs[(2 * plane)..], v => Assert.Equal(200 / 255f, v, 5));
    }

    [Fact]
    public void Results_do_not_depend_on_worker_count_depth_or_cache()
    {
        using var d = new ScratchFolder();
        var samples = BuildSet(d);
        var source = new LocalFaceImageSource(d.Path);
        List<HostBatch> Run(int workers, int depth, DecodedImageCache? cache)
        {
            using var p = new BatchPipeline(source, samples, cache, Size, BatchKind.Reconstruction,
                AugmentOptions.Default, baseSeed: 77, Batches(samples, 7, 6), workers, depth);
            return TakeAll(p);
        }
        var one = Run(1, 1, null);
        var three = Run(3, 4, null);
        var cache = new DecodedImageCache(1 << 20);
        var cached = Run(4, 2, cache);
        Assert.True(cache.Hits > 0);
        Assert.Equal(6, one.Count);
        for (int k = 0; k < one.Count; k++)
        {
            Assert.Equal(one[k].SampleIds, three[k].SampleIds);
            Assert.Equal(one[k].Inputs, three[k].Inputs);
            Assert.Equal(one[k].Targets, three[k].Targets);
            Assert.Equal(one[k].Inputs, cached[k].Inputs);
            Assert.Equal(one[k].Targets, cached[k].Targets);
        }
        // Another seed gives other batches.
        using var other = new BatchPipeline(source, samples, null, Size, BatchKind.Reconstruction,
            AugmentOptions.Default, baseSeed: 78, Batches(samples, 7, 1), workers: 2);
        Assert.NotEqual(one[0].Inputs, other.Take()!.Inputs);
    }

    [Fact]
    public void Recycled_arrays_are_reused_without_changing_results()
    {
        using var d = new ScratchFolder();
        var samples = BuildSet(d);
        var source = new LocalFaceImageSource(d.Path);
        List<HostBatch> plain;
        using (var p = new BatchPipeline(source, samples, null, Size, BatchKind.Reconstruction, AugmentOptions.Default, 3, Batches(samples, 4, 8), workers: 2, depth: 1))
            plain = TakeAll(p);
        using var recycling = new BatchPipeline(source, samples, null, Size, BatchKind.Reconstruction, AugmentOptions.Default, 3, Batches(samples, 4, 8), workers: 2, depth: 1);
        var seen = new HashSet<float[]>(ReferenceEqualityComparer.Instance);
        int reused = 0;
        for (int k = 0; k < 8; k++)
        {
            var b = recycling.Take()!;
            if (!seen.Add(b.Inputs)) reused++;
            Assert.Equal(plain[k].Inputs, b.Inputs);
            Assert.Equal(plain[k].Targets, b.Targets);
            recycling.Recycle(b);
        }
        Assert.True(reused > 0, "no array was reused");
    }

    [Fact]
    public void A_file_damaged_mid_training_is_reported_and_its_slot_filled_from_the_same_batch()
    {
        using var d = new ScratchFolder();
        var samples = BuildSet(d);
        var broken = samples.Single(s => s.RelativePath == "bob/1.png");
        var gone = samples.Single(s => s.RelativePath == "alice/2.jpg");
        var bytes = File.ReadAllBytes(d.Combine("bob", "1.png"));
        File.WriteAllBytes(d.Combine("bob", "1.png"), bytes[..(bytes.Length / 2)]);
        File.Delete(d.Combine("alice", "2.jpg"));

        var reports = new ConcurrentBag<BadSample>();
        int[] ids = [samples[0].Id, broken.Id, samples[8].Id, gone.Id];
        using var p = new BatchPipeline(new LocalFaceImageSource(d.Path), samples, null, Size, BatchKind.Reconstruction,
            AugmentOptions.Default, 5, k => k < 2 ? ids : null, workers: 2, onBadSample: reports.Add);
        var b0 = p.Take()!;
        var b1 = p.Take()!;
        Assert.Null(p.Take());

        Assert.Equal(4, b0.Count);
        Assert.Equal([samples[0].Id, samples[8].Id, samples[8].Id, samples[0].Id], b0.SampleIds);
        Assert.Equal(2, b0.BadSamples.Count);
        var truncated = b0.BadSamples.Single(r => r.SampleId == broken.Id);
        Assert.Equal((RejectReason.Truncated, 1, samples[8].Id), (truncated.Reason, truncated.Position, truncated.SubstituteId));
        Assert.Contains("bob/1.png", truncated.Detail);
        var missing = b0.BadSamples.Single(r => r.SampleId == gone.Id);
        Assert.Equal((RejectReason.Unreadable, 3, samples[0].Id), (missing.Reason, missing.Position, missing.SubstituteId));
        Assert.Equal(4, reports.Count);
        Assert.Equal(4, p.BadSampleCount);

        // The substitute is augmented with the failed slot's own seed: not a copy of its donor slot.
        int stride = b0.ImageStride;
        Assert.NotEqual(b0.Targets![(2 * stride)..(3 * stride)], b0.Targets[(1 * stride)..(2 * stride)]);
        Assert.All(b0.Inputs, v => Assert.InRange(v, 0f, 1f));
        Assert.Equal(1, b1.BatchIndex);
    }

    [Fact]
    public void A_batch_of_only_bad_samples_is_dropped_and_the_next_one_follows()
    {
        using var d = new ScratchFolder();
        var samples = BuildSet(d);
        var bad = samples.Take(2).ToList();
        foreach (var s in bad) File.WriteAllBytes(d.Combine(s.RelativePath.Split('/')), "garbage"u8.ToArray());
        var reports = new ConcurrentBag<BadSample>();
        using var p = new BatchPipeline(new LocalFaceImageSource(d.Path), samples, null, Size, BatchKind.Plain,
            AugmentOptions.Default, 5, k => k switch { 0 => [bad[0].Id, bad[1].Id, 12345], 1 => [samples[5].Id], _ => null },
            workers: 2, onBadSample: reports.Add);
        var next = p.Take()!;
        Assert.Equal(1, next.BatchIndex);
        Assert.Equal([samples[5].Id], next.SampleIds);
        Assert.Null(p.Take());
        Assert.Equal(3, reports.Count);
        Assert.All(reports, r => Assert.Null(r.SubstituteId));
        Assert.Contains(reports, r => r.SampleId == 12345 && r.Reason == RejectReason.Unreadable);
        Assert.Contains(reports, r => r.SampleId == bad[0].Id && r.Reason == RejectReason.NotAnImage);
    }

    [Fact]
    public void A_failing_batch_callback_surfaces_from_take_after_the_earlier_batches()
    {
        using var d = new ScratchFolder();
        var samples = BuildSet(d);
        using var p = new BatchPipeline(new LocalFaceImageSource(d.Path), samples, null, Size, BatchKind.Plain,
            AugmentOptions.None, 0, k => k == 0 ? [samples[0].Id] : throw new InvalidOperationException("planner broke"), workers: 1);
        Assert.Equal(0, p.Take()!.BatchIndex);
        var e = Assert.Throws<InvalidOperationException>(() => p.Take());
        Assert.Equal("planner broke", e.Message);
    }

    [Fact]
    public void Dispose_stops_an_endless_pipeline_and_take_afterwards_throws()
    {
        using var d = new ScratchFolder();
        var samples = BuildSet(d);
        long asked = 0;
        var p = new BatchPipeline(new LocalFaceImageSource(d.Path), samples, null, Size, BatchKind.Reconstruction,
            AugmentOptions.Default, 0, k => { Interlocked.Exchange(ref asked, k); return [samples[(int)(k % samples.Count)].Id]; },
            workers: 2, depth: 3);
        Assert.NotNull(p.Take());
        Assert.NotNull(p.Take());
        SpinWait.SpinUntil(() => Interlocked.Read(ref asked) >= 4, TimeSpan.FromSeconds(10));
        // Bounded: with depth 3 and two batches taken, the planner has asked for at most batches 0..4.
        Thread.Sleep(50);
        Assert.InRange(Interlocked.Read(ref asked), 2, 4);
        p.Dispose();
        Assert.Throws<ObjectDisposedException>(() => p.Take());
        p.Dispose();
    }

    [Fact]
    public void Cancellation_stops_a_waiting_take()
    {
        using var d = new ScratchFolder();
        var samples = BuildSet(d);
        using var gate = new ManualResetEventSlim(false);
        using var p = new BatchPipeline(new LocalFaceImageSource(d.Path), samples, null, Size, BatchKind.Plain,
            AugmentOptions.None, 0, k => { gate.Wait(); return null; }, workers: 1);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));
        Assert.ThrowsAny<OperationCanceledException>(() => p.Take(cts.Token));
        gate.Set();
        Assert.Null(p.Take());
    }
}
