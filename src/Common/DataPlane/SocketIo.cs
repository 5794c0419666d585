using System.Net.Sockets;

namespace FaceCluster.Common.DataPlane;

/// <summary>Socket set-up and whole-buffer reads and writes shared by the data plane.</summary>
internal static class SocketIo
{
    /// <summary>TCP_NODELAY and the configured buffer sizes for a connection.</summary>
    public static void Configure(Socket socket, DataPlaneOptions options)
    {
        socket.NoDelay = true;
        ConfigureBuffers(socket, options);
    }

    /// <summary>The configured buffer sizes; on a listener they are inherited by accepted connections and size the TCP window from the first SYN.</summary>
    public static void ConfigureBuffers(Socket socket, DataPlaneOptions options)
    {
        if (options.SocketBufferBytes <= 0) return;
        socket.SendBufferSize = options.SocketBufferBytes;
        socket.ReceiveBufferSize = options.SocketBufferBytes;
    }

    public static async Task ReadExactlyAsync(Socket socket, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int got = 0;
        while (got < buffer.Length)
        {
            int n = await socket.ReceiveAsync(buffer[got..], SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (n == 0) throw new EndOfStreamException("the peer closed the connection");
            got += n;
        }
    }

    public static async Task WriteAllAsync(Socket socket, ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        while (!buffer.IsEmpty)
        {
            int n = await socket.SendAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            buffer = buffer[n..];
        }
    }

    /// <summary>Blocking read of exactly <paramref name="buffer"/>.Length bytes; honours the socket's ReceiveTimeout.</summary>
    public static void ReadExactly(Socket socket, Span<byte> buffer)
    {
        int got = 0;
        while (got < buffer.Length)
        {
            int n = socket.Receive(buffer[got..]);
            if (n == 0) throw new EndOfStreamException("the peer closed the connection");
            got += n;
        }
    }

    /// <summary>Blocking write of the whole buffer; honours the socket's SendTimeout.</summary>
    public static void WriteAll(Socket socket, ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            int n = socket.Send(buffer);
            buffer = buffer[n..];
        }
    }

    /// <summary>Shuts down both directions (which wakes threads blocked on the socket) and closes it.</summary>
    public static void CloseQuietly(Socket? socket)
    {
        if (socket is null) return;
        try { socket.Shutdown(SocketShutdown.Both); }
        catch (SocketException) { }
        catch (ObjectDisposedException) { }
        socket.Dispose();
    }
}
