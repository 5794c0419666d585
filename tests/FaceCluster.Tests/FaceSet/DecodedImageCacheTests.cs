using FaceCluster.Common.FaceSet;

namespace FaceCluster.Tests.FaceSet;

[Trait("Tier", "unit")]
public class DecodedImageCacheTests
{
    private static FaceSample Sample(int id, string hash = "h") => new(id, $"a/{id}.png", "a", hash, 1, 1, 8, 8, false);

    [Fact]
    public void Evicts_the_least_recently_used_by_bytes()
    {
        var cache = new DecodedImageCache(capacityBytes: 300);
        cache.Add(Sample(1), 8, new byte[100]);
        cache.Add(Sample(2), 8, new byte[100]);
        cache.Add(Sample(3), 8, new byte[100]);
        Assert.True(cache.TryGet(Sample(1), 8, out _));   // 1 is now the most recent
        cache.Add(Sample(4), 8, new byte[100]);           // evicts 2
        Assert.False(cache.TryGet(Sample(2), 8, out _));
        Assert.True(cache.TryGet(Sample(1), 8, out _));
        Assert.True(cache.TryGet(Sample(3), 8, out _));
        Assert.True(cache.TryGet(Sample(4), 8, out _));
        Assert.Equal(300, cache.SizeBytes);
        Assert.Equal(3, cache.Count);
        cache.Add(Sample(5), 8, new byte[301]);           // larger than everything: not stored
        Assert.False(cache.TryGet(Sample(5), 8, out _));
        Assert.Equal(300, cache.SizeBytes);
    }

    [Fact]
    public void Entries_are_per_size_and_never_returned_for_changed_content()
    {
        var cache = new DecodedImageCache(1000);
        var pixels = new byte[10];
        cache.Add(Sample(1, "old"), 8, pixels);
        Assert.False(cache.TryGet(Sample(1, "old"), 16, out _));
        Assert.True(cache.TryGet(Sample(1, "old"), 8, out var got));
        Assert.Same(pixels, got);
        Assert.False(cache.TryGet(Sample(1, "new"), 8, out _));
        Assert.Equal(0, cache.Count);
        Assert.Equal((1L, 2L), (cache.Hits, cache.Misses));
    }
}
