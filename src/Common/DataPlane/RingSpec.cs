using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace FaceCluster.Common.DataPlane;

/// <summary>
/// One all-reduce ring as the coordinator hands it out: a generation number (a new one for every change of
/// membership) and the members' advertised data-plane endpoints ("host:port") in ring order. Rank i sends to
/// rank (i+1) mod n and receives from rank (i-1) mod n.
/// </summary>
public sealed record RingSpec(long Generation, IReadOnlyList<string> MemberEndpoints)
{
    /// <summary>Number of members.</summary>
    public int Size => MemberEndpoints.Count;

    /// <summary>Rank that <paramref name="rank"/> sends to.</summary>
    public int SuccessorOf(int rank) => (rank + 1) % Size;

    /// <summary>Rank that <paramref name="rank"/> receives from.</summary>
    public int PredecessorOf(int rank) => (rank - 1 + Size) % Size;

    /// <summary>Throws <see cref="ArgumentException"/> when the spec cannot describe a ring that <paramref name="rank"/> joins.</summary>
    internal void Validate(int rank)
    {
        if (Generation < 0)
            throw new ArgumentOutOfRangeException(nameof(Generation), Generation, "a ring generation must not be negative");
        if (MemberEndpoints is null || MemberEndpoints.Count == 0)
            throw new ArgumentException("a ring needs at least one member endpoint", nameof(MemberEndpoints));
        if (rank < 0 || rank >= MemberEndpoints.Count)
            throw new ArgumentOutOfRangeException(nameof(rank), rank, $"rank must be in [0, {MemberEndpoints.Count}) for ring generation {Generation}");
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < MemberEndpoints.Count; i++)
        {
            string endpoint = MemberEndpoints[i];
            if (!EndpointAddress.TryParse(endpoint, out _, out _))
                throw new ArgumentException($"ring generation {Generation} member {i} has the endpoint '{endpoint}', which is not host:port", nameof(MemberEndpoints));
            if (!seen.Add(endpoint))
                throw new ArgumentException($"ring generation {Generation} lists the endpoint '{endpoint}' twice", nameof(MemberEndpoints));
        }
    }

    /// <summary>8 bytes of SHA-256 over the generation and the member list: peers compare it in the handshake.</summary>
    internal ulong Fingerprint()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> number = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(number, Generation);
        hash.AppendData(number);
        foreach (string endpoint in MemberEndpoints)
        {
            byte[] text = Encoding.UTF8.GetBytes(endpoint.ToLowerInvariant());
            BinaryPrimitives.WriteInt64LittleEndian(number, text.Length);
            hash.AppendData(number);
            hash.AppendData(text);
        }
        Span<byte> digest = stackalloc byte[32];
        hash.GetHashAndReset(digest);
        return BinaryPrimitives.ReadUInt64LittleEndian(digest);
    }

    /// <inheritdoc />
    public override string ToString() => $"ring generation {Generation} [{string.Join(", ", MemberEndpoints ?? [])}]";
}
