namespace ProfileUpdate.Testing;

/// <summary>The checkout the tests run from: the nearest directory above the test assembly that holds ProfileUpdate.sln.</summary>
public static class RepositoryRoot
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "ProfileUpdate.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Repository root (ProfileUpdate.sln) not found above the test assembly.");
    }
}
