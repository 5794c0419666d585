namespace FaceCluster.Tests.Support;

/// <summary>
/// Tests that build models from a seed share libtorch's global generator (torch.manual_seed, then the layers'
/// initialisation): run in parallel, one test's initialisation could draw between another's manual_seed and its
/// layers, so two "identical" replicas would differ. The classes of this collection run one at a time.
/// </summary>
[CollectionDefinition(Name)]
public sealed class TorchRngCollection
{
    public const string Name = "torch global generator";
}
