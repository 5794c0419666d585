using System.Diagnostics;
using OpenCvSharp;

namespace FaceCluster.Cli.Bench;

/// <summary>
/// `facecluster bench loader --data DIR`: decoded-and-augmented images per second per core through
/// <see cref="BatchPipeline"/> (cold: no cache; warm: decoded-image cache filled), against plain
/// read + Cv2.ImDecode of the same files, single-threaded, in the same run. "Per core" is images per CPU
/// second of this process, so the figures compare work done, whatever else the machine is running.
/// </summary>
internal static class BenchLoaderCommand
{
    public static Command Create()
    {
        var command = new Command("loader", "Images per second per core through the batch pipeline (decode, resize, augment, float NCHW), cold and with the cache, against plain Cv2.ImDecode of the same files.")
        {
            new Option<string>("--data") { Description = "Face-set folder: DIR/<identity>/<images>.", Required = true },
            new Option<int>("--size") { Description = "Model input size in pixels (square).", DefaultValueFactory = _ => 64 },
            new Option<double>("--seconds") { Description = "Seconds measured per phase (baseline, cold, warm).", DefaultValueFactory = _ => 10 },
            new Option<int>("--batch") { Description = "Images per batch.", DefaultValueFactory = _ => 32 },
            new Option<int>("--workers") { Description = "Pipeline worker threads (0: processor count - 1, at least 1).", DefaultValueFactory = _ => 0 },
        };
        command.SetAction(Run);
        return command;
    }

    private static int Run(ParseResult parse)
    {
        var o = parse.InvocationConfiguration.Output;
        string data = parse.GetRequiredValue<string>("--data");
        int size = parse.GetValue<int>("--size");
        double seconds = parse.GetValue<double>("--seconds");
        int batch = parse.GetValue<int>("--batch");
        int workers = parse.GetValue<int>("--workers");
        if (size is < 8 or > 2048) throw Usage("--size", size.ToString(CultureInfo.InvariantCulture), "must be between 8 and 2048");
        if (!(seconds > 0) || seconds > 3600) throw Usage("--seconds", seconds.ToString(CultureInfo.InvariantCulture), "must be above 0 and at most 3600");
        if (batch < 1) throw Usage("--batch", batch.ToString(CultureInfo.InvariantCulture), "must be at least 1");
        if (workers < 0) throw Usage("--workers", workers.ToString(CultureInfo.InvariantCulture), "must be 0 (default) or more");
        if (workers == 0) workers = BatchPipeline.DefaultWorkers;

        // Every file is read once here, so all phases find it in the OS cache.
        var manifest = new FaceSetScanner(new ScanOptions(MinImages: 1, ValFraction: 0, MinSide: 1)).Scan(data).Manifest;
        var samples = manifest.Samples;
        if (samples.Count == 0) throw new FaceClusterException($"face-set folder {manifest.DataRoot} has no usable images to measure");
        var source = new LocalFaceImageSource(manifest.DataRoot);
        var duration = TimeSpan.FromSeconds(seconds);
        o.WriteLine($"bench loader: {samples.Count} images of {manifest.Identities.Count} identities in {manifest.DataRoot}");
        o.WriteLine($"  size {size}x{size}, batch {batch}, {workers} pipeline worker(s), {Environment.ProcessorCount} cores, {seconds.ToString(CultureInfo.InvariantCulture)} s per phase");

        var baseline = MeasureImDecode(source, samples, duration);
        var cold = MeasurePipeline(source, samples, null, size, batch, workers, duration);
        long cacheBytes = Math.Max(64L << 20, 2L * samples.Count * size * size * 3);
        var cache = new DecodedImageCache(cacheBytes);
        var warm = MeasurePipeline(source, samples, cache, size, batch, workers, duration, fillCacheFirst: true);

        o.WriteLine();
        o.WriteLine($"  {"phase",-46} {"images/s",10} {"per core",10} {"per core vs baseline",21}");
        Row(o, "baseline: read + Cv2.ImDecode, 1 thread", baseline, baseline);
        Row(o, "cold: BatchPipeline, no cache", cold, baseline);
        Row(o, "warm: BatchPipeline, decoded-image cache", warm, baseline);
        o.WriteLine();
        o.WriteLine($"  per core = images / CPU seconds of this process in the phase; cache hits {cache.Hits}, misses {cache.Misses}.");
        o.WriteLine($"  The pipeline also crops and resizes to {size}x{size}, augments (affine, flip, colour, random warp: input and target)");
        o.WriteLine("  and writes float NCHW; the baseline only reads and decodes.");
        return 0;
    }

    internal sealed record Measurement(long Images, double WallSeconds, double CpuSeconds)
    {
        public double PerSecond => Images / WallSeconds;
        public double PerCore => CpuSeconds > 0 ? Images / CpuSeconds : double.NaN;
    }

    private static void Row(TextWriter o, string name, Measurement m, Measurement baseline)
        => o.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  {name,-46} {m.PerSecond,10:F0} {m.PerCore,10:F0} {m.PerCore / baseline.PerCore,20:F2}x"));

    /// <summary>Single thread: File.ReadAllBytes + Cv2.ImDecode(Color) over the files, round and round.</summary>
    internal static Measurement MeasureImDecode(LocalFaceImageSource source, IReadOnlyList<FaceSample> samples, TimeSpan duration)
    {
        using (var first = Cv2.ImDecode(source.ReadBytes(samples[0]), ImreadModes.Color)) { } // warm-up
        long images = 0;
        var cpu0 = Environment.CpuUsage.TotalTime;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            var bytes = source.ReadBytes(samples[(int)(images % samples.Count)]);
            using var image = Cv2.ImDecode(bytes, ImreadModes.Color);
            if (image.Empty()) throw new FaceClusterException($"Cv2.ImDecode could not read {samples[(int)(images % samples.Count)].RelativePath}");
            images++;
        }
        return new Measurement(images, clock.Elapsed.TotalSeconds, (Environment.CpuUsage.TotalTime - cpu0).TotalSeconds);
    }

    /// <summary>Reconstruction batches (warped input and target, default augmentation) taken as fast as the
    /// pipeline makes them. With <paramref name="fillCacheFirst"/>, one pass over every sample runs before the clock starts.</summary>
    internal static Measurement MeasurePipeline(LocalFaceImageSource source, IReadOnlyList<FaceSample> samples, DecodedImageCache? cache,
        int size, int batch, int workers, TimeSpan duration, bool fillCacheFirst = false)
    {
        var order = samples.Select(s => s.Id).ToArray();
        new Random(1).Shuffle(order);
        long warmupBatches = fillCacheFirst ? (samples.Count + batch - 1) / batch : 1;
        int[] Ids(long k) => Enumerable.Range(0, batch).Select(n => order[(int)((k * batch + n) % order.Length)]).ToArray();
        using var pipeline = new BatchPipeline(source, samples, cache, size, BatchKind.Reconstruction, AugmentOptions.Default,
            baseSeed: 1, Ids, workers);
        for (long k = 0; k < warmupBatches; k++) pipeline.Recycle(pipeline.Take()!);
        long images = 0;
        var cpu0 = Environment.CpuUsage.TotalTime;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            var taken = pipeline.Take()!;
            images += taken.Count;
            pipeline.Recycle(taken);
        }
        var result = new Measurement(images, clock.Elapsed.TotalSeconds, (Environment.CpuUsage.TotalTime - cpu0).TotalSeconds);
        return result;
    }

    private static FaceClusterException Usage(string flag, string value, string rule) => new($"{flag} {value}: {rule}", ExitCodes.UsageError);
}
