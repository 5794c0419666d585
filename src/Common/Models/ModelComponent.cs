using TorchSharp;

namespace FaceCluster.Common.Models;

/// <summary>A separately saved part of a model: "encoder", "decoder-&lt;identity&gt;", "embedding", "classifier".</summary>
public sealed record ModelComponent(string Name, torch.nn.Module Module);
