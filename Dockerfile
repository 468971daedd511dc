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
# Accepted batches wait here until applied and are resumed from here after a restart: a volume, owned by the app user.
RUN mkdir -p /spool && chown "$APP_UID" /spool
VOLUME /spool
EXPOSE 8080
USER $APP_UID
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["dotnet", "ProfileUpdate.Api.dll", "--health-probe", "http://127.0.0.1:8080/health/live"]
ENTRYPOINT ["dotnet", "ProfileUpdate.Api.dll"]
