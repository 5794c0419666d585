using FaceCluster.Coordinator.Http;

namespace FaceCluster.Tests.Http;

[Trait("Tier", "unit")]
public sealed class DashboardAssetsTests
{
    [Theory]
    [InlineData("/", "index.html", "text/html")]
    [InlineData("", "index.html", "text/html")]
    [InlineData("/dashboard", "index.html", "text/html")]
    [InlineData("/dashboard/", "index.html", "text/html")]
    [InlineData("/dashboard/index.html", "index.html", "text/html")]
    [InlineData("/dashboard/app.js", "app.js", "text/javascript")]
    [InlineData("/dashboard/app.css?v=2", "app.css", "text/css")]
    [InlineData("app.js", "app.js", "text/javascript")]
    public void Known_paths_open_the_embedded_file(string path, string file, string type)
    {
        Assert.True(DashboardAssets.TryOpen(path, out Stream content, out string contentType));
        using (content)
        {
            Assert.StartsWith(type, contentType);
            string text = new StreamReader(content).ReadToEnd();
            Assert.Contains(file switch
            {
                "index.html" => "<script src=\"/dashboard/app.js\">",
                "app.js" => "/api/ledger/restore",
                _ => ".faces",
            }, text);
        }
    }

    [Theory]
    [InlineData("/dashboard/missing.js")]
    [InlineData("/dashboard/../FaceCluster.Coordinator.csproj")]
    [InlineData("/dashboard/sub/app.js")]
    [InlineData("/api/status")]
    [InlineData("/dashboard/app.cs")]
    public void Other_paths_do_not_open(string path)
    {
        Assert.False(DashboardAssets.TryOpen(path, out Stream content, out _));
        Assert.Same(Stream.Null, content);
    }

    [Fact]
    public void The_page_loads_nothing_from_outside_the_coordinator()
    {
        Assert.Equal(["app.css", "app.js", "index.html"], DashboardAssets.Files);
        foreach (string file in DashboardAssets.Files)
        {
            Assert.True(DashboardAssets.TryOpen(file, out Stream content, out _));
            using var reader = new StreamReader(content);
            string text = reader.ReadToEnd();
            Assert.DoesNotContain("http://", text.Replace("http://www.w3.org/2000/svg", ""));
            Assert.DoesNotContain("https://", text);
        }
    }
}
