using FaceCluster.Tests.Support;
using FaceCluster.Common.DataPlane;

namespace FaceCluster.Tests.DataPlane;

/// <summary>
/// The ring's bf16 wire (--wire bf16): half the bytes, sums added in float32, every rank with the same result, within
/// a stated tolerance of the exact sum; the sharded step's all-gather of parameters stays exact.
/// </summary>
[Trait("Tier", "unit")]
public class Bf16WireTests
{
    [Fact]
    public void Encoding_rounds_to_nearest_even_and_keeps_specials()
    {
        Assert.Equal(1.0f, BFloat16Codec.Round(1.0f));
        // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1); just above goes up.
        Assert.Equal(1.0f, BFloat16Codec.Round(1.0f + MathF.Pow(2, -8)));
        Assert.Equal(1.0f + MathF.Pow(2, -7), BFloat16Codec.Round(1.0f + MathF.Pow(2, -8) + MathF.Pow(2, -20)));
        // 1 + 3·2^-8 is halfway between 1 + 2^-7 (odd) and 1 + 2^-6 (even): up to the even one.
        Assert.Equal(1.0f + MathF.Pow(2, -6), BFloat16Codec.Round(1.0f + 3 * MathF.Pow(2, -8)));
        Assert.Equal(-2.5f, BFloat16Codec.Round(-2.5f));
        Assert.True(float.IsNaN(BFloat16Codec.Round(float.NaN)));
        Assert.Equal(float.PositiveInfinity, BFloat16Codec.Round(float.PositiveInfinity));
        Assert.Equal(float.NegativeInfinity, BFloat16Codec.Round(float.NegativeInfinity));
        Assert.Equal(float.PositiveInfinity, BFloat16Codec.Round(float.MaxValue)); // beyond bf16's largest finite value
        Assert.Equal(0x3F80, BFloat16Codec.Encode(1.0f));
        // Relative error of one rounding: at most 2^-8 (half a unit in the last of 8 significant bits).
        var random = new Random(5);
        for (int i = 0; i < 10_000; i++)
        {
            float x = (float)((random.NextDouble() * 2 - 1) * Math.Pow(10, random.Next(-20, 20)));
            Assert.True(Math.Abs(BFloat16Codec.Round(x) - x) <= Math.Abs(x) * Math.Pow(2, -8), $"{x} rounds to {BFloat16Codec.Round(x)}");
        }
    }

    [Fact]
    public void The_span_conversions_equal_the_scalar_ones_value_for_value()
    {
        var random = new Random(11);
        int count = 1000 + 13; // not a multiple of the vector width
        float[] values = new float[count];
        for (int i = 0; i < count; i++)
            values[i] = (i % 50) switch
            {
                0 => float.NaN,
                1 => -float.NaN,
                2 => float.PositiveInfinity,
                3 => float.NegativeInfinity,
                4 => float.Epsilon * random.Next(1, 1000), // subnormal
                5 => float.MaxValue,
                6 => BitConverter.UInt32BitsToSingle(0x3F80_8000), // a tie
                _ => (float)((random.NextDouble() * 2 - 1) * Math.Pow(10, random.Next(-30, 30))),
            };
        ushort[] encoded = new ushort[count];
        BFloat16Codec.Encode(values, encoded);
        for (int i = 0; i < count; i++) Assert.Equal(BFloat16Codec.Encode(values[i]), encoded[i]);
        float[] decoded = new float[count];
        BFloat16Codec.Decode(encoded, decoded);
        for (int i = 0; i < count; i++) Assert.Equal(BitConverter.SingleToUInt32Bits(BFloat16Codec.Decode(encoded[i])), BitConverter.SingleToUInt32Bits(decoded[i]));
        float[] rounded = values.ToArray();
        BFloat16Codec.RoundInPlace(rounded);
        for (int i = 0; i < count; i++) Assert.Equal(BitConverter.SingleToUInt32Bits(BFloat16Codec.Round(values[i])), BitConverter.SingleToUInt32Bits(rounded[i]));
        float[] sums = values.Select(v => float.IsFinite(v) ? v : 1f).ToArray();
        float[] expected = sums.Select((v, i) => v + BFloat16Codec.Decode(encoded[i])).ToArray();
        BFloat16Codec.AddDecoded(sums, encoded);
        for (int i = 0; i < count; i++) Assert.Equal(BitConverter.SingleToUInt32Bits(expected[i]), BitConverter.SingleToUInt32Bits(sums[i]));
    }

    [Theory]
    [InlineData(2, 1000)]
    [InlineData(3, 10_007)]
    [InlineData(5, 100_003)]
    public async Task A_bf16_all_reduce_carries_half_the_bytes_and_every_rank_ends_with_the_same_sum_within_tolerance(int n, int count)
    {
        var options = new DataPlaneOptions { SegmentBytes = 4096 };
        using var fp32 = await RingHarness.StartAsync(n, options);
        using var bf16 = await RingHarness.StartAsync(n, options);
        float[][] inputs = Enumerable.Range(0, n).Select(r => Buffer(count, seed: 31 * n + r)).ToArray();
        float[][] exact = inputs.Select(b => b.ToArray()).ToArray();
        float[][] narrow = inputs.Select(b => b.ToArray()).ToArray();

        await RingHarness.WithinGuard(Task.WhenAll(RingHarness.OnThreads(Enumerable.Range(0, n), r => { fp32.Sessions[r].AllReduceSum(exact[r], count, 1); return r; })));
        await RingHarness.WithinGuard(Task.WhenAll(RingHarness.OnThreads(Enumerable.Range(0, n), r => { bf16.Sessions[r].AllReduceSum(narrow[r], count, 1, WireFormat.Bf16); return r; })));

        // Every rank holds the same values, bit for bit (each owner rounds its range before sending it in bf16).
        for (int r = 1; r < n; r++) Assert.Equal(narrow[0], narrow[r]);
        // Tolerance: each of the n-1 reduce-scatter hops rounds a partial sum (|partial| <= the sum of magnitudes) and
        // the all-gather rounds the result once: |error| <= n · 2^-8 · Σ|x_r|.
        for (int i = 0; i < count; i++)
        {
            double magnitude = inputs.Sum(b => Math.Abs((double)b[i]));
            double error = Math.Abs(narrow[0][i] - (double)exact[0][i]);
            Assert.True(error <= n * Math.Pow(2, -8) * magnitude + 1e-30, $"element {i}: bf16 {narrow[0][i]}, fp32 {exact[0][i]}, magnitude {magnitude}");
        }
        // Half the payload bytes of fp32, the same number of frames.
        long fp32Payload = fp32.Sessions.Sum(s => s.LastStats!.PayloadBytesSent);
        long bf16Payload = bf16.Sessions.Sum(s => s.LastStats!.PayloadBytesSent);
        Assert.Equal(2L * (n - 1) * count * sizeof(float), fp32Payload);
        Assert.Equal(fp32Payload / 2, bf16Payload);
        long headers = fp32.Sessions.Sum(s => s.LastStats!.BytesSent - s.LastStats.PayloadBytesSent);
        Assert.Equal(headers, bf16.Sessions.Sum(s => s.LastStats!.BytesSent - s.LastStats.PayloadBytesSent));
    }

    [Fact]
    public async Task Small_integers_sum_exactly_in_bf16()
    {
        const int n = 4, count = 5000;
        using var ring = await RingHarness.StartAsync(n, new DataPlaneOptions { SegmentBytes = 1024 });
        float[][] buffers = Enumerable.Range(0, n).Select(r => Enumerable.Range(0, count).Select(i => (float)((r + 1) * ((i % 7) - 3))).ToArray()).ToArray();
        await RingHarness.WithinGuard(Task.WhenAll(RingHarness.OnThreads(Enumerable.Range(0, n), r => { ring.Sessions[r].AllReduceSum(buffers[r], count, 3, WireFormat.Bf16); return r; })));
        float[] expected = Enumerable.Range(0, count).Select(i => (float)(10 * ((i % 7) - 3))).ToArray();
        Assert.All(buffers, b => Assert.Equal(expected, b));
    }

    [Fact]
    public async Task The_sharded_step_reduces_in_bf16_and_gathers_what_the_owners_wrote_exactly()
    {
        const int n = 3, count = 9001;
        using var ring = await RingHarness.StartAsync(n, new DataPlaneOptions { SegmentBytes = 2048 });
        var layout = ShardLayout.Proportional(count, [1.0, 2.0, 0.5]);
        float[][] buffers = Enumerable.Range(0, n).Select(r => Buffer(count, seed: 70 + r)).ToArray();
        float[][] inputs = buffers.Select(b => b.ToArray()).ToArray();
        // The owner replaces each reduced value g by a "parameter" with bits bf16 cannot hold: g / 3 + π.
        await RingHarness.WithinGuard(Task.WhenAll(RingHarness.OnThreads(Enumerable.Range(0, n), r =>
        {
            float[] mine = buffers[r];
            ring.Sessions[r].AllReduceSum(mine, count, 4, layout, (offset, length) =>
            {
                for (int i = offset; i < offset + length; i++) mine[i] = mine[i] / 3 + MathF.PI;
            }, WireFormat.Bf16);
            return r;
        })));
        for (int r = 1; r < n; r++) Assert.Equal(buffers[0], buffers[r]);
        int unrounded = 0;
        for (int i = 0; i < count; i++)
        {
            double sum = inputs.Sum(b => (double)b[i]), magnitude = inputs.Sum(b => Math.Abs((double)b[i]));
            double g = (buffers[0][i] - MathF.PI) * 3;
            Assert.True(Math.Abs(g - sum) <= n * Math.Pow(2, -8) * magnitude + 1e-5 * Math.Abs(g) + 1e-5, $"element {i}");
            if (BFloat16Codec.Round(buffers[0][i]) != buffers[0][i]) unrounded++;
        }
        Assert.True(unrounded > count / 2, $"the parameters were gathered in fp32 ({unrounded} of {count} need more bits than bf16 has)");
        // Reduce-scatter at 2 bytes, all-gather at 4: three quarters of fp32's bytes.
        Assert.Equal(6L * (n - 1) * count, ring.Sessions.Sum(s => s.LastStats!.PayloadBytesSent));
    }

    [Fact]
    public async Task Peers_on_different_wires_fail_loudly_instead_of_summing()
    {
        const int n = 2, count = 1000;
        using var ring = await RingHarness.StartAsync(n, timeout: TimeSpan.FromSeconds(5));
        float[][] buffers = Enumerable.Range(0, n).Select(r => Buffer(count, r)).ToArray();
        var runs = RingHarness.OnThreads(Enumerable.Range(0, n), r => { ring.Sessions[r].AllReduceSum(buffers[r], count, 1, r == 0 ? WireFormat.Bf16 : WireFormat.Fp32); return r; });
        await RingHarness.WithinGuard(Task.WhenAll(runs).ContinueWith(_ => { }));
        Assert.All(runs, t => Assert.IsType<AllReduceFailedException>(t.Exception?.InnerException));
        Assert.Contains(runs, t => t.Exception!.InnerException!.Message.Contains("out of step") && t.Exception.InnerException.Message.Contains("bf16"));
    }

    private static float[] Buffer(int count, int seed)
    {
        var random = new Random(seed);
        var buffer = new float[count];
        for (int i = 0; i < count; i++) buffer[i] = (float)((random.NextDouble() * 2 - 1) * Math.Pow(10, random.Next(-3, 4)));
        return buffer;
    }
}
