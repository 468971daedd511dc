using ProfileUpdate.Api;
using ProfileUpdate.Api.Bulk;
using ProfileUpdate.Api.Changes;
using ProfileUpdate.Api.Http;
using ProfileUpdate.Api.Operations;
using ProfileUpdate.Api.Profiles;
using ProfileUpdate.Api.Updates;
using ProfileUpdate.Api.Visits;

if (HealthProbe.RunIfRequested(args) is { } probeExitCode) return probeExitCode;
StartupFailure.ReportUntilStarted();

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceLogging();
builder.ConfigureKestrelLimits();
builder.Services.AddProfileUpdate();
builder.Services.AddOperations();
builder.Services.AddApiDocumentation();

var app = builder.Build();
app.Lifetime.ApplicationStarted.Register(StartupFailure.Started);

app.UseServiceRequestLogging();
app.UseErrorHandling();
app.MapApiDocumentation();
app.MapProfileUpdate();
app.MapBulk();
app.MapVisits();
app.MapProfiles();
app.MapChanges();
app.MapOperations();

app.Run();
return 0;

/// <summary>Entry point; public so WebApplicationFactory can host it in tests.</summary>
public sealed partial class Program;
