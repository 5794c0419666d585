using System.Numerics;

namespace FaceCluster.Common.Statistics;

/// <summary>Medians in linear time by selection (the span is reordered in place), for floats and doubles alike.</summary>
public static class Medians
{
    /// <summary>The middle element, or the mean of the two middle ones; NaN for an empty span.</summary>
    public static T Of<T>(Span<T> a) where T : IFloatingPoint<T>
    {
        int n = a.Length;
        if (n == 0) return T.CreateChecked(double.NaN);
        int k = n / 2;
        T upper = Select(a, k);
        if ((n & 1) == 1) return upper;
        T lower = T.CreateChecked(double.NegativeInfinity);
        foreach (T v in a[..k]) if (v > lower) lower = v;
        return (lower + upper) / T.CreateChecked(2);
    }

    /// <summary>Reorders <paramref name="a"/> so that a[k] is the k-th smallest, smaller ones before it (Hoare's selection).</summary>
    public static T Select<T>(Span<T> a, int k) where T : IFloatingPoint<T>
    {
        int lo = 0, hi = a.Length - 1;
        while (hi > lo)
        {
            int mid = lo + ((hi - lo) >> 1);
            // Median of three as the pivot.
            if (a[mid] < a[lo]) (a[mid], a[lo]) = (a[lo], a[mid]);
            if (a[hi] < a[lo]) (a[hi], a[lo]) = (a[lo], a[hi]);
            if (a[hi] < a[mid]) (a[hi], a[mid]) = (a[mid], a[hi]);
            T pivot = a[mid];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (a[i] < pivot) i++;
                while (a[j] > pivot) j--;
                if (i <= j) { (a[i], a[j]) = (a[j], a[i]); i++; j--; }
            }
            if (k <= j) hi = j;
            else if (k >= i) lo = i;
            else return a[k];
        }
        return a[k];
    }
}
