using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FaceCluster.Common.IO;

/// <summary>
/// Reads a file the face set names, but only if it is a regular file, and never more than a limit. A named pipe
/// called <c>x.png</c> would block an ordinary open for ever (until someone writes to it), and a link to a device
/// such as <c>/dev/zero</c> would be read until memory runs out: both would hang or kill a scan. On Linux the file
/// is opened without blocking and refused unless it can seek (pipes and sockets cannot); the read stops one byte
/// past the limit.
/// </summary>
public static partial class RegularFiles
{
    private const int ReadOnly = 0, NonBlocking = 0x800, CloseOnExec = 0x80000; // Linux (x86-64 and arm64 alike)

    /// <summary>The file's bytes; <see cref="IOException"/> naming why for anything but a regular file.</summary>
    /// <param name="maxBytes">Reads at most this many bytes plus one (so a caller sees that it was larger).</param>
    public static byte[] ReadAtMost(string path, long maxBytes)
    {
        if (!OperatingSystem.IsLinux())
        {
            using var plain = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
            return ReadBounded(plain, maxBytes);
        }
        int fd = Open(path, ReadOnly | NonBlocking | CloseOnExec);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == 13 /* EACCES */) throw new UnauthorizedAccessException($"Access to the path '{path}' is denied.");
            throw new IOException($"cannot open {path}: {Marshal.GetPInvokeErrorMessage(errno)}");
        }
        using var handle = new SafeFileHandle(fd, ownsHandle: true);
        using var stream = new FileStream(handle, FileAccess.Read, 1);
        if (!stream.CanSeek) throw new IOException("not a regular file (a named pipe, socket or similar): not read");
        return ReadBounded(stream, maxBytes);
    }

    /// <summary>
    /// An image file's bytes, for every reader of face files: a regular file of at most <paramref name="maxBytes"/>
    /// (default: the scan's budget, <see cref="FaceSet.ScanOptions.MaxFileBytes"/>); anything else is an
    /// <see cref="IOException"/> saying why, which every such reader already reports by the file's name.
    /// </summary>
    public static byte[] ReadImage(string path, long maxBytes = 0)
    {
        long cap = maxBytes > 0 ? maxBytes : FaceSet.ScanOptions.Default.MaxFileBytes;
        byte[] bytes = ReadAtMost(path, cap);
        if (bytes.LongLength > cap) throw new IOException($"larger than the image budget of {cap} bytes: not decoded");
        return bytes;
    }

    private static byte[] ReadBounded(Stream stream, long maxBytes)
    {
        long cap = Math.Min(maxBytes + 1, Array.MaxLength);
        // A regular file says its length: one array of that size, as File.ReadAllBytes does (this is the loader's
        // path). If it then has more to give (it grew, or it is a device that said 0), read on in chunks.
        long length = stream.CanSeek ? stream.Length : 0;
        if (length > 0 && length <= cap)
        {
            byte[] exact = new byte[length];
            int read = 0;
            while (read < exact.Length)
            {
                int n = stream.Read(exact, read, exact.Length - read);
                if (n == 0) return exact[..read]; // it shrank
                read += n;
            }
            Span<byte> probe = stackalloc byte[1];
            if (length == cap || stream.Read(probe) == 0) return exact;
            using var grown = new MemoryStream();
            grown.Write(exact);
            grown.Write(probe);
            return ReadChunks(stream, grown, cap);
        }
        using var buffer = new MemoryStream();
        return ReadChunks(stream, buffer, cap);
    }

    private static byte[] ReadChunks(Stream stream, MemoryStream buffer, long cap)
    {
        byte[] chunk = new byte[81920];
        while (buffer.Length < cap)
        {
            int n = stream.Read(chunk, 0, (int)Math.Min(chunk.Length, cap - buffer.Length));
            if (n == 0) break;
            buffer.Write(chunk, 0, n);
        }
        return buffer.ToArray();
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);
}
