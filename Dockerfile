# syntax=docker/dockerfile:1
# Build: the SDK image publishes the service (the same `dotnet publish` arguments .ci/run uses to check this stage).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/ProfileUpdate.Api/ProfileUpdate.Api.csproj src/ProfileUpdate.Api/packages.lock.json src/ProfileUpdate.Api/
RUN dotnet restore src/ProfileUpdate.Api/ProfileUpdate.Api.csproj --locked-mode
COPY src/ src/
RUN dotnet publish src/ProfileUpdate.Api/ProfileUpdate.Api.csproj -c Release -o /app --no-restore /p:UseAppHost=false

# Run: the ASP.NET Core runtime only, as a non-root user; configuration comes from the environment.
FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    ProfileUpdate__Bulk__SpoolDirectory=/spool
# A 32 MB first-generation GC budget instead of the 2-3 MB the workstation GC settles on here: each collection costs
# about 0.8 ms however little survives, so a tenth as many of them saves about 1.5 µs of CPU per single update for
# some 25 MB more RSS (docs/performance.md, "The GC's first-generation budget"). The runtime reads this from the
# environment only. Keep it in step with Properties/launchSettings.json (dotnet run); RuntimeSettingsTests checks.
ENV DOTNET_GCgen0size=0x2000000
# Accepted batches wait here until applied and are resumed from here after a restart: a volume, owned by the app user.
RUN mkdir -p /spool && chown "$APP_UID" /spool
VOLUME /spool
EXPOSE 8080
USER $APP_UID
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["dotnet", "ProfileUpdate.Api.dll", "--health-probe", "http://127.0.0.1:8080/health/live"]
ENTRYPOINT ["dotnet", "ProfileUpdate.Api.dll"]
