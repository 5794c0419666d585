
namespace FaceCluster.Coordinator.Ledger.State;

/// <summary>Maps manifest sample ids (any ints) to dense indices 0..n-1: a flat array while ids are compact, a dictionary otherwise.</summary>
internal sealed class SampleIdMap
{
    private int[] _flat = [];
    private Dictionary<int, int>? _sparse;

    public bool TryGet(int id, out int dense)
    {
        if (_sparse == null)
        {
            if ((uint)id < (uint)_flat.Length && _flat[id] > 0) { dense = _flat[id] - 1; return true; }
            dense = -1;
            return false;
        }
        return _sparse.TryGetValue(id, out dense);
    }

    public void Add(int id, int dense, int count)
    {
        if (_sparse == null)
        {
            long limit = 4L * Math.Max(count, 1) + 1024;
            if (id >= 0 && id < limit)
            {
                if (id >= _flat.Length) Array.Resize(ref _flat, (int)Math.Min(limit, Math.Max(id + 1L, _flat.Length * 2L)));
                _flat[id] = dense + 1;
                return;
            }
            _sparse = new Dictionary<int, int>(Math.Max(count, 16));
            for (int i = 0; i < _flat.Length; i++)
                if (_flat[i] > 0) _sparse[i] = _flat[i] - 1;
            _flat = [];
        }
        _sparse[id] = dense;
    }
}
