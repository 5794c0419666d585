using FaceCluster.Coordinator.Cli;

return CliApp.Run(args);
