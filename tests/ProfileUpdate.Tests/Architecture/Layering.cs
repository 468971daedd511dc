using System.Reflection;
using NetArchTest.Rules;

namespace ProfileUpdate.Tests.Architecture;

/// <summary>
/// The dependency rules of docs/architecture.md, relative to a root namespace so the same table can be checked
/// against the service and against the deliberately broken sample in this folder (proof that a broken rule fails).
/// </summary>
public static class Layering
{
    private static readonly string[] Features = ["Clients", "Profiles", "Quota", "Updates", "Bulk", "Visits", "Changes", "Operations"];

    /// <summary>Each folder (namespace below the root), and the folders it must never depend on.</summary>
    public static readonly IReadOnlyList<(string Folder, string[] Forbidden)> Rules =
    [
        // The bottom: plain settings and text primitives know nothing of the service.
        ("Configuration", ["Text", "Http", "Store", .. Features]),
        ("Text", ["Configuration", "Http", "Store", .. Features]),
        // The store holds connections, keys and scripts; features use it, never the other way round.
        ("Store", ["Http", .. Features]),
        // Web plumbing shared by every endpoint (errors, logging, bodies) knows no feature.
        ("Http", Features),
        // Client resolution and authentication: a filter every feature uses, so it uses none.
        ("Clients", ["Store", .. Features.Except(["Clients"])]),
        // Profiles and quota are the two stores the request features build on; neither knows the other or its users.
        ("Profiles", ["Quota", "Updates", "Bulk", "Visits", "Changes", "Operations"]),
        ("Quota", ["Profiles", "Clients", "Updates", "Bulk", "Visits", "Changes", "Operations"]),
        // Request features use the ones below them, never each other.
        ("Updates", ["Bulk", "Visits", "Changes", "Operations"]),
        ("Bulk", ["Updates", "Visits", "Changes", "Operations", "Quota"]),
        ("Visits", ["Updates", "Bulk", "Changes", "Operations", "Quota"]),
        // The change feed reads the log the profile store writes: it needs neither the profiles nor the writers.
        ("Changes", ["Profiles", "Updates", "Bulk", "Visits", "Operations", "Quota"]),
        // Health and metrics export observe the store and the meter, not the features.
        ("Operations", Features.Except(["Operations"]).ToArray()),
    ];

    /// <summary>Every broken rule in <paramref name="assembly"/>: "folder type → forbidden folder".</summary>
    public static IReadOnlyList<string> Violations(Assembly assembly, string root)
    {
        var violations = new List<string>();
        foreach (var (folder, forbidden) in Rules)
        {
            foreach (var target in forbidden)
            {
                var result = Types.InAssembly(assembly)
                    .That().ResideInNamespace($"{root}.{folder}")
                    .ShouldNot().HaveDependencyOn($"{root}.{target}")
                    .GetResult();
                if (result.IsSuccessful) continue;
                violations.AddRange(result.FailingTypeNames.Select(type => $"{type} → {root}.{target}"));
            }
        }
        // Nothing below the root reaches up into the composition (Program, ServiceComposition, ApiDocumentation, Logging).
        var upward = Types.InAssembly(assembly)
            .That().ResideInNamespaceStartingWith(root + ".")
            .ShouldNot().HaveDependencyOnAny(Types.InAssembly(assembly).That().ResideInNamespace(root).GetTypes()
                .Where(t => t.Namespace == root).Select(t => t.FullName!).ToArray())
            .GetResult();
        if (!upward.IsSuccessful) violations.AddRange(upward.FailingTypeNames.Select(type => $"{type} → composition root"));
        return violations;
    }
}
