using Microsoft.Playwright;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// Swagger UI as a person uses it: headless Chromium (Debian's, driven by Playwright) opens /swagger, runs "Try it out"
/// on the single-update operation for a visitor the test created, and sees the success text. The screenshot is kept as
/// a test artifact (artifacts/swagger-try-it-out.png beside the test assembly).
/// </summary>
public sealed class SwaggerBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";

    [SkippableFact]
    public async Task Try_it_out_on_the_update_operation_succeeds_in_a_real_browser()
    {
        Skip.IfNot(File.Exists(Chromium), "Chromium is not installed (apt-get install -y chromium); the Swagger UI browser test is skipped.");
        await using var factory = new ServiceFactory(redisConnectionString: null);
        using var http = factory.CreateHttpClient();
        await Wire.VisitAsync(http, "demo", thirdPartyId: "crm-42");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync"],
        });
        var page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 2000 } });
        await page.GotoAsync(new Uri(factory.BaseAddress, "/swagger/index.html").ToString());

        var operation = page.Locator("#operations-Single_profile_update-UpdateProfileGet");
        await operation.Locator(".opblock-summary").ClickAsync();
        await operation.GetByRole(AriaRole.Button, new() { Name = "Try it out" }).ClickAsync();
        await operation.Locator("tr[data-param-name='client'] input").FillAsync("demo");
        await operation.Locator("tr[data-param-name='mboxPC'] input").FillAsync("");
        await operation.Locator("tr[data-param-name='mbox3rdPartyId'] input").FillAsync("crm-42");
        await operation.Locator("tr[data-param-name='profile'] textarea")
            .FillAsync("{\"profile.favoriteColor\": \"blue\", \"profile.city\": \"Köln\"}");
        await operation.GetByRole(AriaRole.Button, new() { Name = "Execute" }).ClickAsync();

        var responseBody = operation.Locator(".live-responses-table .response-col_description pre").First;
        await Assertions.Expect(responseBody).ToContainTextAsync("trueRequest successfully submitted", new() { Timeout = 15_000 });
        var artifacts = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artifacts"));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(artifacts.FullName, "swagger-try-it-out.png"), FullPage = false });

        var profile = (await Wire.ReadByThirdPartyAsync(http, "demo", "crm-42"))!.Value;
        Assert.Equal("blue", Wire.Attribute(profile, "favoriteColor"));
        Assert.Equal("Köln", Wire.Attribute(profile, "city"));
    }
}
