using System.Security.Cryptography;
using FaceCluster.Common.FaceSet;

namespace FaceCluster.Tests.FaceSet;

[Trait("Tier", "unit")]
public class FaceSplitTests
{
    [Fact]
    public void Split_compares_the_first_eight_bytes_as_a_fraction_of_two_to_the_64()
    {
        string Hash(string head) => head + new string('0', 64 - head.Length);
        Assert.True(FaceSplit.IsValidation(Hash("00"), 0.001));
        Assert.False(FaceSplit.IsValidation(Hash("00"), 0));
        Assert.False(FaceSplit.IsValidation(Hash("8000000000000000"), 0.5));
        Assert.True(FaceSplit.IsValidation(Hash("7fffffffffffffff"), 0.5));
        Assert.True(FaceSplit.IsValidation(Hash("1999999999999999"), 0.1000001));
        Assert.False(FaceSplit.IsValidation(Hash("ffffffffffffffff"), 0.999999));
        // Bytes after the first eight do not matter.
        Assert.Equal(FaceSplit.IsValidation("19999999999999990000" + new string('0', 44), 0.1),
                     FaceSplit.IsValidation("1999999999999999ffff" + new string('f', 44), 0.1));
    }

    [Fact]
    public void The_fraction_is_respected_over_many_hashes()
    {
        int validation = 0;
        const int N = 5000;
        for (int i = 0; i < N; i++)
        {
            string hash = Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(i)));
            if (FaceSplit.IsValidation(hash, 0.1)) validation++;
        }
        Assert.InRange(validation, 400, 600);
    }
}
