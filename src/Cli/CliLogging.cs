
namespace FaceCluster.Cli;

/// <summary>Console logging for long-running commands, and Ctrl+C handling.</summary>
internal static class CliLogging
{
    public static ILoggerFactory Create(ParseResult parse)
    {
        string text = parse.GetValue<string>("--log-level") ?? "warning";
        var level = text.ToLowerInvariant() switch
        {
            "error" => LogLevel.Error,
            "warning" or "warn" => LogLevel.Warning,
            "information" or "info" => LogLevel.Information,
            "debug" => LogLevel.Debug,
            "trace" => LogLevel.Trace,
            _ => throw new FaceClusterException($"--log-level '{text}': use error, warning, information or debug", ExitCodes.UsageError),
        };
        return LoggerFactory.Create(b => b
            .SetMinimumLevel(level)
            .AddFilter("Microsoft", LogLevel.Warning)
            .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
    }
}
