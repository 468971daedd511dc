using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using ProfileUpdate.Api.Configuration;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// The settings tables of README.md and docs/api.md against the options classes: every setting the service binds has
/// its README row, under the environment-variable name that sets it, with the default the code really has; and every
/// <c>ProfileUpdate__</c> row of either document names a setting that exists, with that default. A knob added, renamed
/// or given another default without its rows fails here. Beside <see cref="DocumentationExamplesTests"/>; no store.
/// </summary>
public sealed partial class SettingsTableTests
{
    private const string Prefix = ProfileUpdateOptions.Section + "__";

    [Fact]
    public void Every_setting_has_its_readme_row()
    {
        var rows = SettingsRows("README.md");
        var missing = Settings().Select(s => s.Name).Where(name => !rows.ContainsKey(name)).ToList();
        Assert.True(missing.Count == 0, "README.md has no settings row for: " + string.Join(", ", missing));
    }

    [Theory]
    [InlineData("README.md")]
    [InlineData("docs/api.md")]
    public void Every_settings_row_names_a_setting_that_exists_with_its_default(string document)
    {
        var settings = Settings().ToDictionary(s => s.Name, StringComparer.Ordinal);
        var problems = new List<string>();
        foreach (var (name, defaultCell) in SettingsRows(document))
        {
            if (!settings.TryGetValue(name, out var setting)) problems.Add($"{name}: the service binds no such setting");
            else if (DefaultProblem(setting.Type, setting.Value, defaultCell) is { } problem) problems.Add($"{name}: {problem}");
        }
        Assert.True(problems.Count == 0, $"{document}, settings table:\n" + string.Join("\n", problems));
    }

    [Fact]
    public void The_walk_finds_the_settings_it_should()
    {
        // Guards the two tests above against a walk that silently finds nothing (or stops descending into sections).
        var names = Settings().Select(s => s.Name).ToList();
        Assert.Contains("ProfileUpdate__Quota__Limit", names);
        Assert.Contains("ProfileUpdate__Store__Embedded__Memory", names);
        Assert.Contains("ProfileUpdate__Clients__{client}__Tokens__0", names);
        Assert.Contains("ProfileUpdate__DefaultClient", names);
        Assert.True(names.Count >= 35, $"only {names.Count} settings found");
        Assert.Equal("the documented default is 10, the code's is 12",
            DefaultProblem(typeof(int), 12, "`10`"));
        Assert.Null(DefaultProblem(typeof(TimeSpan), TimeSpan.FromMilliseconds(250), "`00:00:00.250`"));
        Assert.NotNull(DefaultProblem(typeof(string), null, "`256m`"));
        Assert.NotNull(DefaultProblem(typeof(int), 5, "*(none)*"));
    }

    /// <summary>Every leaf setting: its environment-variable name, its type and the value a fresh options object has.</summary>
    private static IEnumerable<(string Name, Type Type, object? Value)> Settings() =>
        Walk(typeof(ProfileUpdateOptions), new ProfileUpdateOptions(), ProfileUpdateOptions.Section);

    private static IEnumerable<(string Name, Type Type, object? Value)> Walk(Type type, object instance, string path)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            var name = path + "__" + property.Name;
            var propertyType = property.PropertyType;
            var value = property.GetValue(instance);
            if (propertyType.IsGenericType && propertyType.GetGenericTypeDefinition() == typeof(Dictionary<,>))
            {
                // A dictionary section is keyed by the user (Clients:{client}); its values' settings are documented
                // under that placeholder, with no instance to take defaults from but the value type's own.
                var valueType = propertyType.GetGenericArguments()[1];
                foreach (var leaf in Walk(valueType, Activator.CreateInstance(valueType)!, name + "__{" + Singular(property.Name) + "}"))
                    yield return leaf;
            }
            else if (propertyType.IsGenericType && propertyType.GetGenericTypeDefinition() == typeof(List<>))
            {
                yield return (name + "__0", propertyType, value is IList { Count: 0 } ? null : value);
            }
            else if (propertyType.IsClass && propertyType != typeof(string))
            {
                // Every section defaults to an instance (the validator requires it), so its defaults are read from it.
                foreach (var leaf in Walk(propertyType, value!, name)) yield return leaf;
            }
            else
            {
                yield return (name, propertyType, value);
            }
        }
    }

    private static string Singular(string name) => name.EndsWith('s') ? name[..^1].ToLowerInvariant() : name.ToLowerInvariant();

    /// <summary>
    /// Null when a document's default cell says what the code's default is: no value (an italic note such as
    /// <c>*(none)*</c>) for a setting without one, else the cell's first code literal, read as the setting's type.
    /// </summary>
    private static string? DefaultProblem(Type type, object? value, string cell)
    {
        var literal = CodeLiteral().Match(cell) is { Success: true } m ? m.Groups[1].Value : null;
        if (value is null)
            return literal is null ? null : $"the code has no default, the document says `{literal}`";
        if (literal is null)
            return $"no default documented (`{Format(value)}` in code): '{cell.Trim()}'";
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        var same = underlying switch
        {
            _ when underlying == typeof(TimeSpan) => TimeSpan.TryParse(literal, CultureInfo.InvariantCulture, out var t) && t == (TimeSpan)value,
            _ when underlying == typeof(bool) => bool.TryParse(literal, out var b) && b == (bool)value,
            _ when underlying == typeof(int) || underlying == typeof(long) =>
                long.TryParse(literal, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n == Convert.ToInt64(value, CultureInfo.InvariantCulture),
            // A path default is machine-specific: the documents give its tail ("ProfileUpdate/spool under …").
            _ when underlying == typeof(string) => (string)value == literal || ((string)value).Replace('\\', '/').EndsWith("/" + literal, StringComparison.Ordinal),
            _ => throw new InvalidOperationException($"No rule for settings of type {underlying.Name}: add one here."),
        };
        return same ? null : $"the documented default is {literal}, the code's is {Format(value)}";
    }

    private static string Format(object value) => value switch
    {
        TimeSpan t => t.ToString("c", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? string.Empty,
    };

    /// <summary>A document's settings rows: setting name → the default cell.</summary>
    private static Dictionary<string, string> SettingsRows(string document)
    {
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(Path.Combine(RepositoryRoot.Path, document)))
        {
            if (!line.StartsWith("| `" + Prefix, StringComparison.Ordinal)) continue;
            var cells = CellSeparator().Split(line.Trim().Trim('|'));
            var name = CodeLiteral().Match(cells[0]).Groups[1].Value;
            Assert.False(rows.ContainsKey(name), $"{document} lists {name} twice");
            rows[name] = cells.Length > 1 ? cells[1] : string.Empty;
        }
        Assert.True(rows.Count > 0, $"{document} has no settings rows starting with `{Prefix}");
        return rows;
    }

    [GeneratedRegex("`([^`]*)`")]
    private static partial Regex CodeLiteral();

    [GeneratedRegex(@"(?<!\\)\|")]
    private static partial Regex CellSeparator();
}
