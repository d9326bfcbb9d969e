using System.Diagnostics;
using System.Text.Json;

namespace HetConv.Tests.Studies;

/// <summary>
/// Debian's <c>chromium</c>, headless, opening a page as a reader's browser does: a copy of the page with two small
/// scripts added (one first in the head that records errors and console.error calls, one that on load reports every
/// image's size) is loaded from disk and its DOM dumped once loading settled. Tests that need it are skipped, with
/// the reason, where it is not installed.
/// </summary>
internal static class HeadlessChromium
{
    public const string Executable = "/usr/bin/chromium";

    public static string? Missing => File.Exists(Executable) ? null : $"{Executable} is missing; install it with: apt-get install -y chromium";

    /// <summary>What the page showed: how many images, which did not render (by alt text) and the errors raised.</summary>
    public sealed record PageCheck(int Images, string[] Broken, string[] Errors, int[] Widths);

    public static PageCheck Open(string page)
    {
        const string head = "<script>window.__errors=[];" +
            "window.addEventListener('error',e=>window.__errors.push('error: '+(e.message||(e.target&&e.target.alt)||'resource')),true);" +
            "const ce=console.error;console.error=(...a)=>{window.__errors.push('console: '+a.join(' '));ce(...a)};</script>";
        const string body = "<script>window.addEventListener('load',()=>{const imgs=[...document.images];" +
            "const r={images:imgs.length,broken:imgs.filter(i=>!(i.complete&&i.naturalWidth>0)).map(i=>i.alt)," +
            "errors:window.__errors,widths:imgs.map(i=>i.naturalWidth)};" +
            "const p=document.createElement('pre');p.id='page-check';p.textContent=JSON.stringify(r);document.body.appendChild(p);});</script>";
        string html = File.ReadAllText(page);
        Assert.Contains("<head>", html);
        Assert.Contains("</body>", html);
        string copy = Path.Combine(Path.GetDirectoryName(page)!, "page-check-" + Guid.NewGuid().ToString("N")[..8] + ".html");
        File.WriteAllText(copy, html.Replace("<head>", "<head>" + head).Replace("</body>", body + "</body>"));
        try
        {
            var start = new ProcessStartInfo(Executable)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in new[] { "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=10000", "--dump-dom", new Uri(copy).AbsoluteUri })
                start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync();
            string dom = process.StandardOutput.ReadToEnd();
            Assert.True(process.WaitForExit(TimeSpan.FromMinutes(2)), "chromium did not finish within 2 minutes");
            const string marker = "<pre id=\"page-check\">";
            int at = dom.IndexOf(marker, StringComparison.Ordinal);
            Assert.True(at >= 0, $"chromium's DOM has no page check (exit code {process.ExitCode}): {error.Result}");
            string json = System.Net.WebUtility.HtmlDecode(dom[(at + marker.Length)..dom.IndexOf("</pre>", at, StringComparison.Ordinal)]);
            return JsonSerializer.Deserialize<PageCheck>(json, new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;
        }
        finally
        {
            File.Delete(copy);
        }
    }
}
