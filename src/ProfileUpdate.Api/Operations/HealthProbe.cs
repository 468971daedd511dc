namespace ProfileUpdate.Api.Operations;

/// <summary>
/// <c>dotnet ProfileUpdate.Api.dll --health-probe URL</c>: exits 0 when URL answers 2xx, else 1. The runtime container
/// image has no curl or wget, so the Dockerfile's HEALTHCHECK uses the service's own binary.
/// </summary>
public static class HealthProbe
{
    public static int? RunIfRequested(string[] args)
    {
        var index = Array.IndexOf(args, "--health-probe");
        if (index < 0 || index + 1 >= args.Length) return null;
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
            using var response = http.GetAsync(new Uri(args[index + 1])).GetAwaiter().GetResult();
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or UriFormatException)
        {
            return 1;
        }
    }
}
