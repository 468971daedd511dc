namespace ProfileUpdate.Api.Configuration;

/// <summary>
/// The name of the service's meter. Each feature owns its instruments on it (IMeterFactory hands every feature the same
/// meter for the same name); the metrics exporter only needs to know the name.
/// </summary>
public static class ServiceMeter
{
    public const string Name = "ProfileUpdate";
}
