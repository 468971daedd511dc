using System.Buffers;
using System.Reflection;
using System.Text;
using Microsoft.AspNetCore.Http.Metadata;

namespace ProfileUpdate.Api.Updates;

/// <summary>
/// Adobe's 200 for an update: its fixed text, from bytes encoded once. Not <c>TypedResults.Text</c>, which parses its
/// content type and asks the logger factory for a logger on every call (Serilog's factory builds a new logger each time:
/// measured about 1 KB of garbage per update).
/// </summary>
public sealed class UpdateAccepted : IResult, IEndpointMetadataProvider
{
    public static readonly UpdateAccepted Instance = new();
    private static readonly byte[] Body = Encoding.UTF8.GetBytes(UpdateEndpoints.SuccessBody);

    private UpdateAccepted() { }

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var response = httpContext.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = UpdateEndpoints.PlainText;
        response.ContentLength = Body.Length;
        // Copied into Kestrel's output buffer; Kestrel sends it when the request completes.
        response.BodyWriter.Write(Body);
        return Task.CompletedTask;
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(string), ["text/plain"]));
}
