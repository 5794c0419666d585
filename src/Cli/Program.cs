using FaceCluster.Cli;

return CliApp.Run(args);
