var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();
app.MapMethods("/m2/{client}/profile/update", ["GET", "POST"],
    () => TypedResults.Text("trueRequest successfully submitted", "text/plain; charset=utf-8"));
app.Run();
