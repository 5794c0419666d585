using FaceCluster.Build;

namespace FaceCluster.Tests.Build;

/// <summary>The build's fix of TorchSharp's native library: applied only where the host needs it, never to the NuGet cache.</summary>
[Trait("Tier", "unit")]
public class TorchNativeFixTests
{
    private static string OutputLibrary()
    {
        string dir = AppContext.BaseDirectory;
        foreach (var candidate in new[] { Path.Combine(dir, "libLibTorchSharp.so"), Path.Combine(dir, "runtimes", "linux-x64", "native", "libLibTorchSharp.so") })
            if (File.Exists(candidate)) return candidate;
        throw new FileNotFoundException("libLibTorchSharp.so is not in the test output folder " + dir);
    }

    private static string? NuGetCacheLibrary()
    {
        string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
                      ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string path = Path.Combine(root, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        return File.Exists(path) ? path : null;
    }

    [Fact]
    public void Output_copy_needs_only_versions_the_host_defines_or_weak_ones()
    {
        if (!OperatingSystem.IsLinux()) return;
        string? libstdcxx = ElfVersionPatcher.FindHostLibStdCxx();
        Assert.NotNull(libstdcxx);
        var defined = ElfVersionPatcher.ReadDefinitions(File.ReadAllBytes(libstdcxx!));
        Assert.Contains("GLIBCXX_3.4", defined);

        var needs = ElfVersionPatcher.ReadNeeds(File.ReadAllBytes(OutputLibrary()));
        var glibcxx = needs.Where(n => n.Name.StartsWith("GLIBCXX_", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(glibcxx);
        foreach (var need in glibcxx)
            Assert.True(defined.Contains(need.Name) || need.IsWeak,
                $"{need.Name} is required strongly by the output copy but {libstdcxx} does not define it");
        // Only what the host lacks is weakened: a version the host defines keeps its flags.
        foreach (var need in glibcxx.Where(n => defined.Contains(n.Name)))
            Assert.False(need.IsWeak, $"{need.Name} is defined by the host and should not have been weakened");
    }

    [Fact]
    public void NuGet_cache_copy_is_left_as_shipped()
    {
        string? cached = NuGetCacheLibrary();
        if (cached == null) return; // restored elsewhere (NUGET_PACKAGES on another path): nothing to compare
        var needs = ElfVersionPatcher.ReadNeeds(File.ReadAllBytes(cached));
        var v32 = needs.SingleOrDefault(n => n.Name == "GLIBCXX_3.4.32");
        Assert.NotNull(v32);
        Assert.False(v32!.IsWeak, "the NuGet cache's copy was modified");
    }

    [Fact]
    public void Patch_weakens_exactly_the_missing_allowed_version_on_a_copy()
    {
        string? cached = NuGetCacheLibrary();
        string source = cached ?? OutputLibrary();
        string copy = Path.Combine(Path.GetTempPath(), $"fc-elf-{Guid.NewGuid():N}.so");
        File.Copy(source, copy);
        try
        {
            var before = ElfVersionPatcher.ReadNeeds(File.ReadAllBytes(copy));
            var hostWithout32 = before.Select(n => n.Name).Where(n => n != "GLIBCXX_3.4.32").ToHashSet();
            var allowed = new HashSet<string> { "GLIBCXX_3.4.32" };
            var changed = ElfVersionPatcher.PatchFile(copy, hostWithout32, allowed);
            var after = ElfVersionPatcher.ReadNeeds(File.ReadAllBytes(copy));
            if (before.Single(n => n.Name == "GLIBCXX_3.4.32").IsWeak)
                Assert.Empty(changed);
            else
                Assert.Equal(["GLIBCXX_3.4.32"], changed);
            Assert.True(after.Single(n => n.Name == "GLIBCXX_3.4.32").IsWeak);
            foreach (var (b, a) in before.Zip(after).Where(p => p.First.Name != "GLIBCXX_3.4.32"))
                Assert.Equal(b.Flags, a.Flags);
            // Idempotent: a second run changes nothing.
            Assert.Empty(ElfVersionPatcher.PatchFile(copy, hostWithout32, allowed));
            // A host that defines the version gets no change at all.
            string copy2 = copy + ".2";
            File.Copy(source, copy2);
            try { Assert.Empty(ElfVersionPatcher.PatchFile(copy2, before.Select(n => n.Name).ToHashSet(), allowed)); }
            finally { File.Delete(copy2); }
        }
        finally { File.Delete(copy); }
    }

    [Fact]
    public void Non_elf_input_is_rejected_with_a_clear_error()
    {
        var e = Assert.Throws<InvalidDataException>(() => ElfVersionPatcher.ReadNeeds("hello, not an elf"u8.ToArray().Concat(new byte[100]).ToArray()));
        Assert.Contains("not an ELF", e.Message);
    }
}
