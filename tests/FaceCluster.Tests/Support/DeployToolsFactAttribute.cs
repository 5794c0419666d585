namespace FaceCluster.Tests.Support;

/// <summary>
/// A fact that is skipped, saying which programs are missing and how to install them, when deploy/validate.sh's
/// tools are not on PATH (./test.sh installs shellcheck and yamllint; Node.js comes with the machine image).
/// </summary>
public sealed class DeployToolsFactAttribute : FactAttribute
{
    public static readonly string[] Tools = ["bash", "shellcheck", "yamllint", "node", "npm", "python3", "curl"];

    public DeployToolsFactAttribute()
    {
        string[] missing = Tools.Where(t => !OnPath(t)).ToArray();
        if (missing.Length > 0)
            Skip = $"deploy/validate.sh needs {string.Join(", ", missing)}: run ./test.sh (it installs shellcheck and yamllint) " +
                   "or apt-get install -y shellcheck yamllint nodejs npm python3 curl";
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Any(dir => File.Exists(Path.Combine(dir, program)));
}
