using System.Text.Json.Nodes;
using Microsoft.OpenApi;
using ProfileUpdate.Api.Clients;
using ProfileUpdate.Api.Http;
using ProfileUpdate.Api.Profiles;
using ProfileUpdate.Api.Visits;

namespace ProfileUpdate.Api;

/// <summary>
/// The OpenAPI document at /openapi/v1.json (Microsoft.AspNetCore.OpenApi) and Swagger UI at /swagger (Swashbuckle's UI).
/// The update API's parameters are free-form (<c>profile.&lt;name&gt;</c>), which no handler signature can express, so they
/// and every example are added here by operation name.
/// </summary>
public static class ApiDocumentation
{
    public static IServiceCollection AddApiDocumentation(this IServiceCollection services)
    {
        services.AddOpenApi(options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "ProfileUpdate";
                document.Info.Description = "Self-hosted, Adobe Target-compatible profile update service: single and bulk profile " +
                    "updates, visits and profile reads. A 200 means the update is durably stored and readable.";
                // The single update binds its client from the route as a ResolvedClient; DescribeClient documents that
                // parameter as the client code, so the class's own schema is referenced by nothing.
                document.Components?.Schemas?.Remove(nameof(ResolvedClient));
                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                // Limits as configured, so the document tells what this instance enforces.
                var configured = context.ApplicationServices.GetRequiredService<IOptions<ProfileUpdateOptions>>().Value;
                var limits = configured.Limits;
                var metadata = context.Description.ActionDescriptor.EndpointMetadata;
                var source = metadata.OfType<ClientSource>().FirstOrDefault();
                DescribeClient(operation, source);
                var name = metadata.OfType<IEndpointNameMetadata>().FirstOrDefault()?.EndpointName;
                switch (name)
                {
                    case "UpdateProfileGet":
                    case "UpdateProfilePost":
                        DescribeUpdate(operation, isPost: name == "UpdateProfilePost", limits);
                        break;
                    case "Deliver":
                        DescribeDelivery(operation, limits);
                        break;
                    case "BatchUpdateV1":
                    case "BatchUpdateV2":
                        DescribeBatchUpdate(operation, v2: name == "BatchUpdateV2", limits, configured.Bulk.SubmissionsPerMinute);
                        break;
                    case "BatchDelete":
                        DescribeBatchDelete(operation, limits, configured.Bulk.SubmissionsPerMinute);
                        break;
                    case "DeleteProfileByTntId":
                    case "DeleteProfileByThirdPartyId":
                        DescribeDelete(operation);
                        break;
                    case "BatchStatusV1":
                    case "BatchStatusV2":
                        DescribeBatchStatus(operation);
                        break;
                    case "GetProfileByTntId":
                    case "GetProfileByThirdPartyId":
                        DescribeRead(operation);
                        break;
                    case "GetChanges":
                        DescribeChanges(operation, configured.Changes);
                        break;
                }
                if (source != default)
                    DescribeClientAnswers(operation, source, xml: metadata.OfType<XmlErrorEnvelope>().Any(), tokens: !metadata.OfType<ClientWithoutToken>().Any());
                return Task.CompletedTask;
            });
        });
        return services;
    }

    public static WebApplication MapApiDocumentation(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json");
        // Swagger UI is middleware that matches every request's path with a regular expression; branching on the prefix
        // first keeps that cost off the update path.
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/swagger", StringComparison.OrdinalIgnoreCase),
            branch => branch.UseSwaggerUI(ui =>
            {
                ui.SwaggerEndpoint("/openapi/v1.json", "ProfileUpdate v1");
                ui.RoutePrefix = "swagger";
                ui.DocumentTitle = "ProfileUpdate API";
            }));
        return app;
    }

    private static void DescribeUpdate(OpenApiOperation operation, bool isPost, LimitsOptions limits)
    {
        operation.Parameters ??= [];
        // Only one id has an example, so "Try it out" works as prefilled (both ids at once is a 400).
        operation.Parameters.Add(Query("mboxPC", "Target visitor id (tntId), with or without its location hint, e.g. 1368007744041-575948.01_00. Give this or mbox3rdPartyId.",
            null));
        operation.Parameters.Add(Query("mbox3rdPartyId", $"Your own visitor id (1-{VisitorIds.MaxThirdPartyIdLength} characters, no '+' or '/'). Give this or mboxPC.", "crm-42"));
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = "profile",
            In = ParameterLocation.Query,
            Description = $"Attributes to set, each as profile.{{name}}={{value}} (name up to {limits.MaxNameLength} characters, value up to {limits.MaxValueLength} characters; " +
                "an empty value is ignored, or removes the attribute with emptyValues=remove). " +
                "Swagger UI sends each entry of this object as its own query parameter.",
            Required = !isPost,
            Style = ParameterStyle.Form,
            Explode = true,
            Schema = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.String },
            },
            Example = new JsonObject { ["profile.favoriteColor"] = "blue", ["profile.city"] = "Köln" },
        });
        operation.Parameters.Add(EmptyValuesQuery("ignore (default): profile.{name}= with an empty value is ignored, as in Adobe. " +
            "remove: it removes attribute {name} from the profile (nothing happens when absent); sets and removals of one request apply " +
            "atomically and count as one update against the quota. Any other value, or the parameter twice, is refused with 400."));
        Respond(operation, "200", "Stored and readable. X-Profile-Update says applied or profile-not-found (nothing is created).",
            "text/plain", JsonValue.Create("trueRequest successfully submitted"));
        ProblemResponse(operation, "400", "Missing or conflicting id, no profile.* parameter, malformed escape or invalid UTF-8, over-long name or value, emptyValues other than ignore or remove.");
        ProblemResponse(operation, "414", $"Request target longer than {limits.MaxGetBytes:N0} bytes.");
        if (isPost)
        {
            ProblemResponse(operation, "408", SlowBody);
            ProblemResponse(operation, "413", $"Body larger than {limits.MaxPostBytes:N0} bytes.");
            ProblemResponse(operation, "415", "Body not application/x-www-form-urlencoded.");
            // Declared here rather than with .Accepts(): that would make routing refuse other content types with a bare 415,
            // where the contract wants a 415 with a message.
            operation.RequestBody = Body(required: false, "Parameters as application/x-www-form-urlencoded (merged with the query string; a name in both is refused).", new()
            {
                ["application/x-www-form-urlencoded"] = new()
                {
                    Schema = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.String },
                    },
                    Example = new JsonObject { ["mbox3rdPartyId"] = "crm-42", ["profile.tier"] = "gold" },
                },
            });
        }
        ProblemResponse(operation, "429", "The client's rolling 24-hour quota is used up; Retry-After says when the next update is admitted. Nothing was written.");
        ProblemResponse(operation, "503", "Store unavailable or service at capacity; nothing acknowledged. Retry after Retry-After.");
    }

    private static void DescribeDelivery(OpenApiOperation operation, LimitsOptions limits)
    {
        operation.Parameters ??= [];
        operation.Parameters.Add(Query("sessionId", "The visitor's session id, required as in Adobe's Delivery API (not otherwise used).", "a1b2c3", required: true));
        operation.RequestBody = Body(required: true, "An Adobe Delivery API request; only context.channel, id and execute.pageLoad.profileParameters are read " +
                $"(at most {DeliveryRequestReader.MaxProfileParameters} parameters, names up to {limits.MaxNameLength} characters, values up to {limits.MaxValueLength}).", new()
        {
            ["application/json"] = new()
            {
                Schema = new OpenApiSchema { Type = JsonSchemaType.Object },
                Example = JsonNode.Parse("""
                    {"context":{"channel":"web"},"id":{"thirdPartyId":"crm-42"},
                     "execute":{"pageLoad":{"profileParameters":{"tier":"gold","city":"Köln"}}}}
                    """),
            },
        });
        Respond(operation, "200", "The visitor's ids.", "application/json", JsonNode.Parse("""
            {"status":200,"requestId":"4f1c…","client":"demo","id":{"tntId":"9a0e3e1f0c8d4e8fb9f1c0f5c7d2a6b1.0_0","thirdPartyId":"crm-42"},
             "edgeHost":"localhost","execute":{"pageLoad":{}}}
            """));
        ProblemResponse(operation, "400", "No sessionId, invalid JSON, an empty or invalid id, or invalid profile parameters.");
        ProblemResponse(operation, "408", SlowBody);
        ProblemResponse(operation, "413", $"Body larger than {VisitEndpoints.MaxBodyBytes:N0} bytes.");
        ProblemResponse(operation, "415", "Body not application/json.");
        ProblemResponse(operation, "503", StoreUnavailableWrite);
    }

    private const string BatchExample = "batch=pcId,param1,param2,param3,param4\n123,value1\n124,value1,,,value4\n125,,value2\n126,value1,value2,value3,value4\n";

    private static void DescribeBatchUpdate(OpenApiOperation operation, bool v2, LimitsOptions limits, int submissionsPerMinute)
    {
        operation.Parameters ??= [];
        operation.Parameters.Add(new OpenApiParameter
        {
            Name = "Prefer",
            In = ParameterLocation.Header,
            Description = "RFC 7240 wait=<seconds> (at most 600): answer once the batch is complete, or after that long; " +
                "the answer then carries Preference-Applied. Without it the answer comes once the file is spooled.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String },
            Example = JsonValue.Create("wait=30"),
        });
        operation.Parameters.Add(EmptyValuesQuery("ignore (default): an empty cell is ignored, as in Adobe. remove: a cell that is present but empty " +
            "(id,,x or a trailing id,x,) removes that attribute; cells omitted at the end of a short row are still ignored. " +
            "Any other value, or the parameter twice, is refused with 400 before anything is read."));
        operation.Description = (v2 ? "Creates missing profiles (a new tntId linked to a new thirdPartyId, or the given pcId). "
                : "Updates existing profiles only; unknown ids are counted in profilesNotFound. ") +
            $"The answer comes once the file is spooled and recorded (status incomplete); the batch is applied in the background, " +
            $"or ask for the finished result with Prefer: wait. The file must be smaller than {limits.MaxBatchBytes:N0} bytes " +
            $"and hold at most {limits.MaxBatchRows:N0} rows; at most {submissionsPerMinute} submissions per minute.";
        operation.RequestBody = Body(required: true, "The batch file: raw (curl --data-binary @file), text/csv, or a multipart/form-data file upload.", new()
        {
            ["multipart/form-data"] = new()
            {
                Schema = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Required = new HashSet<string> { "file" },
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["file"] = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary", Description = "The batch file" },
                    },
                },
            },
            ["text/csv"] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String }, Example = JsonValue.Create(BatchExample) },
            ["application/x-www-form-urlencoded"] = new()
            {
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                Example = JsonValue.Create(BatchExample),
            },
        });
        var xmlOk = "<response><success>true</success><batchId>demo-1795449600054-50504229</batchId><batchStatus>http://localhost:5000/m2/demo" +
                    (v2 ? "/v2" : "") + "/profile/batchStatus?batchId=demo-1795449600054-50504229</batchStatus><message>Batch submitted for processing</message></response>";
        Respond(operation, "200", "Accepted: spooled, recorded, and being applied (complete already when Prefer: wait was honoured).", "application/xml", JsonValue.Create(xmlOk));
        foreach (var (status, text) in new[]
                 {
                     ("400", "The file must start with 'batch=' followed by the header line, e.g. batch=thirdPartyId,favoriteColor,tier. Nothing was applied."),
                     ("413", $"The batch has more than {limits.MaxBatchRows} rows; split it into several files. Nothing was applied."),
                     ("415", "Content-Type 'application/json' is not accepted; send the batch file raw (curl --data-binary @file), as text/csv, or as a multipart/form-data file upload."),
                     ("408", SlowBody),
                     ("429", $"Client demo may submit at most {submissionsPerMinute} batches per minute; retry in 12 seconds."),
                     ("503", "The spool of batches waiting to be applied is full, the server could not write the upload to it, or the profile store is " +
                             "unavailable; nothing was kept. Retry after the Retry-After interval."),
                 })
        {
            Error(operation, status, text, xml: true);
        }
    }

    private const string EraseExample = "batch=thirdPartyId\ncrm-42\ncrm-43\n";

    private static void DescribeBatchDelete(OpenApiOperation operation, LimitsOptions limits, int submissionsPerMinute)
    {
        DescribeBatchUpdate(operation, v2: true, limits, submissionsPerMinute);
        operation.Description = "Deletes the profile of every id in the file, as DELETE /rest/v1/profiles does (attributes, every linked " +
            "thirdPartyId, everything keyed by it). The header is batch=thirdPartyId or batch=pcId alone (attribute columns are refused " +
            "with 400), then one id per row. Same spool, background processing, Prefer: wait, crash safety and status resource as a batch " +
            $"update; the status counts profilesDeleted and profilesNotFound. The file must be smaller than {limits.MaxBatchBytes:N0} bytes " +
            $"and hold at most {limits.MaxBatchRows:N0} rows; at most {submissionsPerMinute} submissions per minute.";
        foreach (var media in operation.RequestBody?.Content?.Values ?? [])
            if (media.Example is not null) media.Example = JsonValue.Create(EraseExample);
        // An erase has no cells to empty: emptyValues changes nothing here (a value other than ignore or remove is still
        // refused, as on the update URLs, so a mistyped URL is noticed), so it is not offered as a parameter.
        operation.Parameters?.Remove(operation.Parameters.First(p => p.Name == EmptyValuesParameter.Name));
        Error(operation, "400", "A batchDelete file names only the id column (batch=thirdPartyId or batch=pcId) and one id per row; " +
            "remove the attribute columns 'tier'. Nothing was deleted.", xml: true);
    }

    private static void DescribeDelete(OpenApiOperation operation)
    {
        SetExample(operation, "tntId", "1368007744041-575948.01_00");
        SetExample(operation, "thirdPartyId", "crm-42");
        operation.Description = "Removes the profile's attributes, every thirdPartyId linked to it and everything keyed by it; 204 once all " +
            "of it is gone. Afterwards reads answer 404, updates answer X-Profile-Update: profile-not-found and a visit with the same " +
            "thirdPartyId starts a new tntId. Does not consume the update quota.";
        operation.Responses ??= [];
        operation.Responses["204"] = new OpenApiResponse { Description = "Deleted, links and all." };
        ProblemResponse(operation, "400", "Invalid id.");
        ProblemResponse(operation, "404", "No profile found for client demo with third party id=crm-42");
        ProblemResponse(operation, "503", StoreUnavailableWrite);
    }

    private static void DescribeBatchStatus(OpenApiOperation operation)
    {
        SetExample(operation, "batchId", "demo-1795449600054-50504229");
        SetExample(operation, "showDetails", "true");
        Respond(operation, "200", "complete, incomplete or stuck; with showDetails=true the counts and the first 1,000 failed rows.", "application/xml",
            JsonValue.Create("<response><batchId>demo-1795449600054-50504229</batchId><status>complete</status><batchSize>3</batchSize>" +
                "<consumedCount>3</consumedCount><successfulUpdates>2</successfulUpdates><profilesNotFound>0</profilesNotFound>" +
                "<failedUpdates>1</failedUpdates><profilesCreated>2</profilesCreated><profile><id>bad%2Bid</id><status>failed</status>" +
                "<row>4</row><message>thirdPartyId must not contain '+' or '/'.</message></profile></response>"));
        Error(operation, "400", "The query parameter batchId is required.", xml: true);
        Error(operation, "404", "Unknown batch.", xml: true, detail: "No batch x is known for client demo (statuses are kept for a limited time).");
        Error(operation, "503", StoreUnavailableRead, xml: true);
    }

    private static void DescribeRead(OpenApiOperation operation)
    {
        SetExample(operation, "tntId", "1368007744041-575948.01_00");
        SetExample(operation, "thirdPartyId", "crm-42");
        Respond(operation, "200", "The profile.", "application/json", JsonNode.Parse("""
            {"client":"demo","visitorId":"crm-42","tntId":"9a0e3e1f0c8d4e8fb9f1c0f5c7d2a6b1.0_0","thirdPartyId":"crm-42",
             "modifiedAt":"2026-11-23T15:31:16.123+00:00",
             "profileAttributes":{"tier":{"value":"gold","modifiedAt":"2026-11-23T15:31:16.123+00:00"}}}
            """));
        ProblemResponse(operation, "400", "Invalid id.");
        ProblemResponse(operation, "404", "No profile found for client demo with third party id=crm-42");
        ProblemResponse(operation, "503", StoreUnavailableRead);
    }

    private static void DescribeChanges(OpenApiOperation operation, ChangesOptions changes)
    {
        operation.Description = "Every applied change to the client's profiles (single updates that applied, visits that created a " +
            "profile or set parameters, bulk rows, removals, deletes), oldest first. Opt-in: ProfileUpdate__Changes__Enabled=true " +
            $"({(changes.Enabled ? "on" : "off")} here; off: 404). With Accept: text/event-stream the same URL streams Server-Sent Events " +
            "(id = cursor, event = kind, data = the entry), resuming after Last-Event-ID.";
        SetExample(operation, "after", "AyFOf52gw-FbAQEA");
        SetExample(operation, "limit", "100");
        foreach (var p in operation.Parameters ?? [])
        {
            if (p is not OpenApiParameter concrete) continue;
            if (concrete.Name == "after") concrete.Description = "Cursor (an entry's id, or a page's next): read the entries after it. Absent: from the oldest kept.";
            if (concrete.Name == "limit") concrete.Description = "Entries per page, 1 to 1000 (default 100).";
        }
        Respond(operation, "200", "A page of changes, oldest first, and the cursor to continue from (or an event stream).", "application/json", JsonNode.Parse("""
            {"changes":[{"id":"AyFOf52gw-FbAQEA","at":"2026-11-23T15:31:16.123+00:00","kind":"updated","tntId":"9a0e3e1f0c8d4e8fb9f1c0f5c7d2a6b1.0_0",
             "thirdPartyId":"crm-42","set":{"tier":"gold"},"removed":["city"]}],"next":"AyFOf52gw-FbAQEA"}
            """));
        ProblemResponse(operation, "400", "Invalid cursor or limit.");
        ProblemResponse(operation, "404", "The change feed is off on this service. Start it with ProfileUpdate__Changes__Enabled=true.");
        ProblemResponse(operation, "410", "The entries after the cursor cannot be read: trimmed (the message says how far back the log reaches), the log was lost and started anew since the cursor was made, the cursor is ahead of the log, or it is of the format before cursors named their log. The message says which.");
        ProblemResponse(operation, "503", "Too many open change streams on this instance (Retry-After), or the store is unavailable.");
    }

    /// <summary>
    /// The client code: handlers take it resolved (<see cref="ResolvedClient"/>), so the generator sees no parameter, or,
    /// where a handler binds it from the route (the single update), one typed as that class; where it comes from is the
    /// group's <see cref="ClientSource"/>, and this parameter replaces the generator's.
    /// </summary>
    private static void DescribeClient(OpenApiOperation operation, ClientSource source)
    {
        if (source == default) return;
        operation.Parameters ??= [];
        for (var i = operation.Parameters.Count - 1; i >= 0; i--)
            if (operation.Parameters[i].Name == "client") operation.Parameters.RemoveAt(i);
        operation.Parameters.Insert(0, source switch
        {
            ClientSource.Route => new OpenApiParameter
            {
                Name = "client",
                In = ParameterLocation.Path,
                Required = true,
                Description = "Your client code (Adobe's CLIENTCODE).",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                Example = JsonValue.Create("demo"),
            },
            ClientSource.Query => Query("client", "Your client code (required).", "demo", required: true),
            _ => Query("client", "Client code. When absent, taken from the Host (CLIENT.tt.example.com) or ProfileUpdate:DefaultClient.", "demo"),
        });
    }

    /// <summary>
    /// What the client check (<see cref="ClientFilter"/>) answers before any handler of a client group runs: 400 for a
    /// missing, malformed or repeated client code, 404 for a client this service does not serve, 401 for a missing or
    /// wrong token where the group checks tokens. Added to every such operation here, so none can leave them out.
    /// </summary>
    private static void DescribeClientAnswers(OpenApiOperation operation, ClientSource source, bool xml, bool tokens)
    {
        operation.Responses ??= [];
        // A route segment is always there and given once; a query parameter may be absent or repeated.
        var badClient = source == ClientSource.Route ? "A malformed client code." : "A missing, malformed or repeated client code.";
        if (operation.Responses.TryGetValue("400", out var bad) && bad is OpenApiResponse badRequest) badRequest.Description += " Also: " + badClient;
        else Error(operation, "400", badClient, xml);
        if (tokens)
            Error(operation, "401", "This client needs a token (Authorization: Bearer <token> or the access_token header), and the request carried none or a wrong one.", xml,
                detail: "This client requires authentication: send Authorization: Bearer <token> (or the access_token header).");
        const string unknownClient = "a client this service does not serve (when clients are configured).";
        if (operation.Responses.TryGetValue("404", out var found) && found is OpenApiResponse notFound) notFound.Description += " Also: " + unknownClient;
        else Error(operation, "404", "No such client: " + unknownClient, xml, detail: "Client 'demo' is not configured on this service.");
    }

    /// <summary>The answer to a body that stops arriving or arrives too slowly (Kestrel's MinRequestBodyDataRate), in the endpoint's format.</summary>
    private const string SlowBody = MalformedRequestHandler.SlowBody;

    private const string StoreUnavailableRead = "The profile store is unavailable; retry after the Retry-After interval.";

    private const string StoreUnavailableWrite = "The profile store is unavailable; nothing acknowledged (every write is idempotent). Retry after the Retry-After interval.";

    private static OpenApiParameter EmptyValuesQuery(string description) => new()
    {
        Name = EmptyValuesParameter.Name,
        In = ParameterLocation.Query,
        Description = description,
        Schema = new OpenApiSchema
        {
            Type = JsonSchemaType.String,
            Enum = [JsonValue.Create("ignore"), JsonValue.Create("remove")],
            Default = JsonValue.Create("ignore"),
        },
    };

    private static OpenApiRequestBody Body(bool required, string description, Dictionary<string, OpenApiMediaType> content) =>
        new() { Required = required, Description = description, Content = content };

    private static OpenApiParameter Query(string name, string description, string? example, bool required = false) => new()
    {
        Name = name,
        In = ParameterLocation.Query,
        Required = required,
        Description = description,
        Schema = new OpenApiSchema { Type = JsonSchemaType.String },
        Example = example is null ? null : JsonValue.Create(example),
    };

    private static void SetExample(OpenApiOperation operation, string parameter, string example)
    {
        foreach (var p in operation.Parameters ?? [])
        {
            if (p is OpenApiParameter concrete && concrete.Name == parameter) concrete.Example = JsonValue.Create(example);
        }
    }

    private static void Respond(OpenApiOperation operation, string status, string description, string mediaType, JsonNode? example)
    {
        operation.Responses ??= [];
        operation.Responses[status] = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                [mediaType] = new() { Example = example, Schema = mediaType == "text/plain" ? new OpenApiSchema { Type = JsonSchemaType.String } : null },
            },
            Headers = status switch
            {
                "401" => StringHeader("WWW-Authenticate", "Bearer realm=\"profile-update\""),
                "429" or "503" => StringHeader("Retry-After", "Seconds to wait before retrying."),
                _ => null,
            },
        };
    }

    /// <summary>An error answer in the endpoint's format: the bulk XML envelope, else problem+json.</summary>
    private static void Error(OpenApiOperation operation, string status, string description, bool xml, string? detail = null)
    {
        if (xml)
            Respond(operation, status, description, "application/xml",
                JsonValue.Create($"<response><success>false</success><batchStatus></batchStatus><message>{detail ?? description}</message></response>"));
        else ProblemResponse(operation, status, description, detail);
    }

    private static Dictionary<string, IOpenApiHeader> StringHeader(string name, string description) =>
        new() { [name] = new OpenApiHeader { Description = description, Schema = new OpenApiSchema { Type = JsonSchemaType.String } } };

    private static void ProblemResponse(OpenApiOperation operation, string status, string description, string? detail = null) =>
        Respond(operation, status, description, "application/problem+json", new JsonObject
        {
            ["type"] = "https://tools.ietf.org/html/rfc9110",
            ["title"] = Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(int.Parse(status, System.Globalization.CultureInfo.InvariantCulture)),
            ["status"] = int.Parse(status, System.Globalization.CultureInfo.InvariantCulture),
            ["detail"] = detail ?? description,
            ["message"] = detail ?? description,
        });
}
