using FaceCluster.Tests.Support;
using FaceCluster.Common.IO;
using FaceCluster.Coordinator.Ledger.Curation;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using FaceCluster.Coordinator.Ledger.Protocol;
using FaceCluster.Coordinator.Ledger;
using Microsoft.Playwright;
using OpenCvSharp;
using static Microsoft.Playwright.Assertions;

namespace FaceCluster.Tests.Http;

/// <summary>
/// The dashboard in a real browser (Debian's chromium, headless, driven by Playwright) against a host that maps
/// <c>MapDashboard</c> and answers the ledger routes from a real LedgerActor: a person quarantines and keeps
/// samples from the review queue and restores a quarantined face, and the ledger changes.
/// </summary>
[Trait("Tier", "integration")]
public sealed class DashboardBrowserTests : TestKit, IDisposable
{
    /// <summary>Where Debian's (and Ubuntu's) chromium package puts the browser.</summary>
    private const string ChromiumPath = "/usr/bin/chromium";
    private const string Token = "dashboard-test-token";
    private static readonly float Timeout = 15_000;

    private readonly ScratchFolder _dir = new("fc-dashboard");

    public DashboardBrowserTests() : base("akka.loglevel = WARNING") { }

    private static readonly RegisterFaceSet FaceSet = new(["ann", "ben"],
        [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1],
        Enumerable.Range(1, 12).Select(i => $"{(i <= 6 ? "ann" : "ben")}/{i}.png").ToArray(), "h");

    /// <summary>Review mode, acting at once: the samples the policy would prune wait for a person.</summary>
    private static readonly CurationPolicyOptions ReviewAtOnce = CurationPolicyOptions.Default with
    {
        Mode = CurationMode.Review, WarmupSteps = 0, MinObservations = 2, PersistenceHits = 1, PersistenceWindow = 1, RefeedWeight = 1,
        MinReferenceSamples = 3, MaxPruneFraction = 0.5, MaxPruneFractionPerCycle = 0.5,
    };

    /// <summary>Samples 3 (ann) and 9 (ben) are five times worse than their batch-mates in every step.</summary>
    private static IEnumerable<LossReport> Steps(long from, long to) =>
        Enumerable.Range((int)from, (int)(to - from)).SelectMany(step => new[]
        {
            new LossReport("w1", 0, step, 2, [1, 2, 3, 4, 5, 6], [1, 1.1f, 5, 0.9f, 1, 1.05f]),
            new LossReport("w2", 0, step, 2, [7, 8, 9, 10, 11, 12], [1, 0.95f, 5, 1, 0.9f, 1]),
        });

    private static readonly object Status = new
    {
        runId = "run-dashboard-test", phase = "running", step = 10, cycle = 1, totalSteps = 40, samplesPerSecond = 123.5,
        workers = new object[]
        {
            new { id = "w1", host = "gpu-a", device = "cuda:0", state = "active", batch = 24, samplesPerSecond = 90.0, lastStep = 10, note = "",
                memory = "30.6 / 79.6 GiB", utilization = "87 %, 64 °C", telemetry = "nvidia-smi" },
            new { id = "w2", host = "cpu-b", device = "cpu", state = "active", batch = 8, samplesPerSecond = 33.5, lastStep = 10, note = "slow",
                memory = "n/a", utilization = "n/a", telemetry = "n/a: no driver telemetry for a cpu device" },
        },
    };

    [Fact]
    public async Task A_person_reviews_and_restores_faces_in_the_browser_and_the_ledger_changes()
    {
        Assert.True(File.Exists(ChromiumPath),
            $"Chromium is not installed at {ChromiumPath}; the dashboard browser test needs it. ./test.sh installs it " +
            "(scripts/lib.sh fc_ensure_test_deps), or run: sudo apt-get install -y --no-install-recommends chromium");

        var ledger = Sys.ActorOf(LedgerActor.Props(new LedgerOptions(_dir.Path) { FaceSet = FaceSet, Policy = ReviewAtOnce, Flush = new FlushPolicy(IntervalMs: 20) }));
        foreach (var report in Steps(0, 10)) ledger.Tell(report);
        ledger.Tell(new ValidationReport(5, "validation/loss", 0.31));
        ledger.Tell(new ValidationReport(10, "validation/loss", 0.27));
        var directives = await ledger.Ask<CurationDirectives>(new CloseCycle(0, 10), TimeSpan.FromSeconds(10));
        Assert.Equal([3, 9], directives.AwaitingReview.Order());

        // Two checkpoints' previews, of different widths so the test can tell which one the page shows.
        string previews = _dir.Combine("previews");
        Directory.CreateDirectory(previews);
        foreach (var (step, width) in new[] { (10L, 96), (20L, 64) })
        {
            using var image = new Mat(32, width, MatType.CV_8UC3, new Scalar(step, 80, 160));
            Cv2.ImWrite(Path.Combine(previews, $"step-{step}.png"), image);
        }
        await using var host = await DashboardTestHost.StartAsync(ledger, Token, Status, Faces(), previews);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true });

        // Without a token the page asks for one.
        var anonymous = await browser.NewPageAsync();
        await anonymous.GotoAsync(host.BaseAddress + "/");
        await Expect(anonymous.Locator("#token-panel")).ToBeVisibleAsync(new() { Timeout = Timeout });
        await anonymous.CloseAsync();

        var page = await browser.NewPageAsync();
        await page.GotoAsync(host.BaseAddress + "/?token=" + Token);
        await Expect(page.Locator("#token-panel")).ToBeHiddenAsync(new() { Timeout = Timeout });
        Assert.DoesNotContain("token", page.Url); // read once, kept in sessionStorage, dropped from the address bar

        // The cluster view and the charts.
        await Expect(page.Locator("#workers tr[data-worker='w1']")).ToContainTextAsync("cuda:0", new() { Timeout = Timeout });
        await Expect(page.Locator("#workers tr[data-worker='w1']")).ToContainTextAsync("75%");
        await Expect(page.Locator("#workers tr[data-worker='w1'] [data-field='memory']")).ToHaveTextAsync("30.6 / 79.6 GiB");
        await Expect(page.Locator("#workers tr[data-worker='w1'] [data-field='utilization']")).ToHaveTextAsync("87 %, 64 °C");
        await Expect(page.Locator("#workers tr[data-worker='w2'] [data-field='memory']")).ToHaveTextAsync("n/a");
        await Expect(page.Locator("#chart-workers svg path")).ToHaveCountAsync(2, new() { Timeout = Timeout });
        await Expect(page.Locator("#chart-identities svg path")).ToHaveCountAsync(2, new() { Timeout = Timeout });
        await Expect(page.Locator("#chart-validation svg path")).ToHaveCountAsync(1, new() { Timeout = Timeout });

        // Smoothing reshapes the lines (the data stay); a window of steps zooms every chart, and "all steps" undoes it.
        var global = page.Locator("#chart-global svg path");
        await Expect(page.Locator("#chart-global svg circle")).ToHaveCountAsync(10, new() { Timeout = Timeout }); // steps 0..9
        string? raw = await global.GetAttributeAsync("d");
        await page.Locator("#smoothing").FillAsync("0.9");
        await Expect(page.Locator("#smoothing-value")).ToHaveTextAsync("0.9");
        Assert.NotEqual(raw, await global.GetAttributeAsync("d"));
        await page.Locator("#zoom-from").FillAsync("5");
        await Expect(page.Locator("#chart-global svg circle")).ToHaveCountAsync(5, new() { Timeout = Timeout });
        await page.Locator("#zoom-reset").ClickAsync();
        await page.Locator("#smoothing").FillAsync("0");
        await Expect(page.Locator("#chart-global svg circle")).ToHaveCountAsync(10, new() { Timeout = Timeout });
        Assert.Equal(raw, await global.GetAttributeAsync("d"));

        // The worst faces are thumbnails from /api/faces; a click shows the sample's history.
        var worstFace = page.Locator("#worst-faces button.face[data-sample='3']");
        await Expect(worstFace).ToBeVisibleAsync(new() { Timeout = Timeout });
        Assert.True(await worstFace.Locator("img").EvaluateAsync<bool>("img => img.complete && img.naturalWidth === 32"), "the thumbnail did not load");
        await worstFace.ClickAsync();
        await Expect(page.Locator("#sample-detail [data-field='sample-status']")).ToHaveTextAsync("awaiting-review", new() { Timeout = Timeout });
        await Expect(page.Locator("#sample-detail .chart svg path")).ToHaveCountAsync(2);

        // The newest preview is shown; the slider goes back to the first checkpoint's.
        await Expect(page.Locator("#preview-step")).ToHaveTextAsync("20", new() { Timeout = Timeout });
        await page.WaitForFunctionAsync("() => { const i = document.getElementById('preview-image'); return i.complete && i.naturalWidth === 64; }");
        await page.Locator("#preview-slider").FillAsync("0");
        await Expect(page.Locator("#preview-step")).ToHaveTextAsync("10", new() { Timeout = Timeout });
        await page.WaitForFunctionAsync("() => { const i = document.getElementById('preview-image'); return i.complete && i.naturalWidth === 96; }");

        // FC_DASHBOARD_SCREENSHOT=/tmp/dashboard.png keeps a picture of the page for a person to look at.
        if (Environment.GetEnvironmentVariable("FC_DASHBOARD_SCREENSHOT") is { Length: > 0 } screenshot)
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });

        // Review: quarantine 3, keep 9.
        var reviewRows = page.Locator("#review-rows tr[data-sample]");
        await Expect(reviewRows).ToHaveCountAsync(2, new() { Timeout = Timeout });
        await page.Locator("#review-rows button[data-review='quarantine'][data-sample='3']").ClickAsync();
        await Expect(page.Locator("#quarantine-rows tr[data-sample='3']")).ToBeVisibleAsync(new() { Timeout = Timeout });
        await page.Locator("#review-rows button[data-review='keep'][data-sample='9']").ClickAsync();
        await Expect(reviewRows).ToHaveCountAsync(0, new() { Timeout = Timeout });

        var quarantined = await ledger.Ask<QuarantineList>(new GetQuarantine(false), TimeSpan.FromSeconds(10));
        Assert.Equal(3, Assert.Single(quarantined.Entries).SampleId);

        // Restore: the quarantine list shrinks and the ledger agrees.
        await page.Locator("#quarantine-rows button[data-restore='3']").ClickAsync();
        await Expect(page.Locator("#quarantine-rows tr[data-sample]")).ToHaveCountAsync(0, new() { Timeout = Timeout });
        var after = await ledger.Ask<QuarantineList>(new GetQuarantine(false), TimeSpan.FromSeconds(10));
        Assert.Empty(after.Entries);
        var history = await ledger.Ask<SampleHistory>(new GetSampleHistory(3), TimeSpan.FromSeconds(10));
        Assert.Equal("restored", history.Sample.Status);
        lock (host.AuthorizedPosts) Assert.Equal(["review 3 quarantine", "review 9 keep", "restore 3"], host.AuthorizedPosts);
    }

    /// <summary>A 32×32 PNG per sample, a different grey for each.</summary>
    private static Dictionary<int, byte[]> Faces()
    {
        var faces = new Dictionary<int, byte[]>();
        foreach (int id in FaceSet.SampleIds)
        {
            using var image = new Mat(32, 32, MatType.CV_8UC3, new Scalar(id * 20, 128, 255 - id * 20));
            Cv2.ImEncode(".png", image, out byte[] png);
            faces[id] = png;
        }
        return faces;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing); // stops the ledger (closing ledger.db) before the folder goes
        if (disposing) _dir.Dispose();
    }
}
