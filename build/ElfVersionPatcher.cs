#nullable enable
#if !FACECLUSTER_NO_MSBUILD_TASK
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;
#endif
// Shared by the MSBuild inline task (build/TorchNativeFix.targets) and the tests.
// Keep this file free of anything but the BCL: RoslynCodeTaskFactory compiles it as is.
using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace FaceCluster.Build
{
    /// <summary>
    /// Reads the symbol-version tables of a 64-bit little-endian ELF file and can mark
    /// a required version (a Vernaux entry of .gnu.version_r) as weak (VER_FLG_WEAK),
    /// so that the dynamic loader no longer refuses the library when the host's
    /// libstdc++ lacks that version. Only safe for versions that no relocation uses.
    /// </summary>
    public static class ElfVersionPatcher
    {
        public const ushort VerFlgWeak = 0x2;
        private const uint ShtGnuVerdef = 0x6ffffffd;
        private const uint ShtGnuVerneed = 0x6ffffffe;

        public sealed class VersionNeed
        {
            public VersionNeed(string file, string name, ushort flags, long flagsOffset)
            {
                File = file; Name = name; Flags = flags; FlagsOffset = flagsOffset;
            }
            public string File { get; }
            public string Name { get; }
            public ushort Flags { get; }
            public long FlagsOffset { get; }
            public bool IsWeak => (Flags & VerFlgWeak) != 0;
        }

        private sealed class Section
        {
            public uint Type; public long Offset; public long Size; public uint Link; public uint Info;
        }

        private static List<Section> ReadSections(byte[] elf)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
                throw new InvalidDataException("not an ELF file");
            if (elf[4] != 2 || elf[5] != 1)
                throw new InvalidDataException("only 64-bit little-endian ELF files are supported");
            long shoff = BitConverter.ToInt64(elf, 0x28);
            int shentsize = BitConverter.ToUInt16(elf, 0x3A);
            int shnum = BitConverter.ToUInt16(elf, 0x3C);
            if (shoff <= 0 || shentsize < 64 || shoff + (long)shnum * shentsize > elf.Length)
                throw new InvalidDataException("section header table is out of bounds");
            var list = new List<Section>(shnum);
            for (int i = 0; i < shnum; i++)
            {
                long b = shoff + (long)i * shentsize;
                list.Add(new Section
                {
                    Type = BitConverter.ToUInt32(elf, (int)b + 4),
                    Offset = BitConverter.ToInt64(elf, (int)b + 24),
                    Size = BitConverter.ToInt64(elf, (int)b + 32),
                    Link = BitConverter.ToUInt32(elf, (int)b + 40),
                    Info = BitConverter.ToUInt32(elf, (int)b + 44),
                });
            }
            return list;
        }

        private static string ReadString(byte[] elf, Section strtab, long index)
        {
            long start = strtab.Offset + index;
            if (index < 0 || start >= strtab.Offset + strtab.Size) throw new InvalidDataException("string index out of bounds");
            long end = start;
            while (end < elf.Length && elf[end] != 0) end++;
            return Encoding.ASCII.GetString(elf, (int)start, (int)(end - start));
        }

        /// <summary>Every (file, version) pair the library requires, with its flags.</summary>
        public static List<VersionNeed> ReadNeeds(byte[] elf)
        {
            var sections = ReadSections(elf);
            var result = new List<VersionNeed>();
            foreach (var s in sections)
            {
                if (s.Type != ShtGnuVerneed) continue;
                var strtab = sections[(int)s.Link];
                long vn = s.Offset;
                for (uint i = 0; i < s.Info; i++)
                {
                    ushort cnt = BitConverter.ToUInt16(elf, (int)vn + 2);
                    uint fileIdx = BitConverter.ToUInt32(elf, (int)vn + 4);
                    uint aux = BitConverter.ToUInt32(elf, (int)vn + 8);
                    uint next = BitConverter.ToUInt32(elf, (int)vn + 12);
                    string file = ReadString(elf, strtab, fileIdx);
                    long va = vn + aux;
                    for (int j = 0; j < cnt; j++)
                    {
                        ushort flags = BitConverter.ToUInt16(elf, (int)va + 4);
                        uint nameIdx = BitConverter.ToUInt32(elf, (int)va + 8);
                        uint vnaNext = BitConverter.ToUInt32(elf, (int)va + 12);
                        result.Add(new VersionNeed(file, ReadString(elf, strtab, nameIdx), flags, va + 4));
                        if (vnaNext == 0) break;
                        va += vnaNext;
                    }
                    if (next == 0) break;
                    vn += next;
                }
            }
            return result;
        }

        /// <summary>Every version a shared library defines (for libstdc++: GLIBCXX_3.4, ..., GLIBCXX_3.4.30).</summary>
        public static HashSet<string> ReadDefinitions(byte[] elf)
        {
            var sections = ReadSections(elf);
            var result = new HashSet<string>(StringComparer.Ordinal);
            foreach (var s in sections)
            {
                if (s.Type != ShtGnuVerdef) continue;
                var strtab = sections[(int)s.Link];
                long vd = s.Offset;
                for (uint i = 0; i < s.Info; i++)
                {
                    ushort cnt = BitConverter.ToUInt16(elf, (int)vd + 6);
                    uint aux = BitConverter.ToUInt32(elf, (int)vd + 12);
                    uint next = BitConverter.ToUInt32(elf, (int)vd + 16);
                    if (cnt > 0)
                    {
                        uint nameIdx = BitConverter.ToUInt32(elf, (int)(vd + aux));
                        result.Add(ReadString(elf, strtab, nameIdx));
                    }
                    if (next == 0) break;
                    vd += next;
                }
            }
            return result;
        }

        /// <summary>Finds the libstdc++.so.6 the dynamic loader would pick on this host, or null.</summary>
        public static string? FindHostLibStdCxx()
        {
            var candidates = new List<string>();
            string? ldPath = Environment.GetEnvironmentVariable("LD_LIBRARY_PATH");
            if (!string.IsNullOrEmpty(ldPath))
                foreach (var d in ldPath!.Split(':'))
                    if (d.Length > 0) candidates.Add(Path.Combine(d, "libstdc++.so.6"));
            candidates.AddRange(new[]
            {
                "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
                "/lib/x86_64-linux-gnu/libstdc++.so.6",
                "/usr/lib64/libstdc++.so.6",
                "/lib64/libstdc++.so.6",
                "/usr/lib/libstdc++.so.6",
                "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
            });
            foreach (var c in candidates)
                if (File.Exists(c)) return c;
            return null;
        }

        /// <summary>
        /// Marks each required version in <paramref name="weakenable"/> that the host does not define as weak.
        /// Writes through a temporary file and a rename, so a hard link into the NuGet cache is never written through.
        /// Returns the names it weakened (empty when nothing was needed).
        /// </summary>
        public static List<string> PatchFile(string libraryPath, ISet<string> hostDefinitions, ISet<string> weakenable)
        {
            byte[] elf = File.ReadAllBytes(libraryPath);
            var changed = new List<string>();
            foreach (var need in ReadNeeds(elf))
            {
                if (need.IsWeak || hostDefinitions.Contains(need.Name) || !weakenable.Contains(need.Name)) continue;
                ushort flags = (ushort)(need.Flags | VerFlgWeak);
                elf[need.FlagsOffset] = (byte)(flags & 0xff);
                elf[need.FlagsOffset + 1] = (byte)(flags >> 8);
                changed.Add(need.Name);
            }
            if (changed.Count == 0) return changed;
            string tmp = libraryPath + ".patching";
            File.WriteAllBytes(tmp, elf);
            File.Delete(libraryPath);
            File.Move(tmp, libraryPath);
            return changed;
        }
    }
}

#if !FACECLUSTER_NO_MSBUILD_TASK

namespace FaceCluster.Build
{
    /// <summary>MSBuild task: weakens the listed ELF version requirements that the host's libstdc++ lacks.</summary>
    public class FaceClusterWeakenElfVersions : Task
    {
        [Required] public ITaskItem[] Libraries { get; set; } = Array.Empty<ITaskItem>();
        [Required] public string Versions { get; set; } = "";

        public override bool Execute()
        {
            string? libstdcxx = ElfVersionPatcher.FindHostLibStdCxx();
            if (libstdcxx == null)
            {
                Log.LogWarning("FaceCluster: no libstdc++.so.6 found on this host; TorchSharp's native library is left as shipped.");
                return true;
            }
            HashSet<string> defined;
            try { defined = ElfVersionPatcher.ReadDefinitions(File.ReadAllBytes(libstdcxx)); }
            catch (Exception e)
            {
                Log.LogWarning($"FaceCluster: could not read the version table of {libstdcxx}: {e.Message}; TorchSharp's native library is left as shipped.");
                return true;
            }
            var weakenable = new HashSet<string>(Versions.Split(new[] { ';', ',' }, StringSplitOptions.RemoveEmptyEntries), StringComparer.Ordinal);
            foreach (var item in Libraries)
            {
                string path = item.GetMetadata("FullPath");
                try
                {
                    var changed = ElfVersionPatcher.PatchFile(path, defined, weakenable);
                    if (changed.Count > 0)
                        Log.LogMessage(MessageImportance.High, $"FaceCluster: {libstdcxx} lacks {string.Join(", ", changed)}; marked weak in {path}");
                }
                catch (Exception e)
                {
                    Log.LogError($"FaceCluster: could not patch {path}: {e.Message}");
                    return false;
                }
            }
            return true;
        }
    }
}
#endif
