using ProfileUpdate.Api.Store;

namespace ProfileUpdate.Tests.Architecture;

public sealed class LayeringTests
{
    [Fact]
    public void The_service_keeps_its_dependency_rules()
    {
        var violations = Layering.Violations(typeof(StoreConnections).Assembly, "ProfileUpdate.Api");
        Assert.True(violations.Count == 0, "Dependencies against docs/architecture.md:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void A_broken_rule_is_reported()
    {
        // The sample below breaks two rules on purpose: the store reaches into a feature, a feature into another.
        var violations = Layering.Violations(typeof(LayeringTests).Assembly, "ProfileUpdate.Tests.Architecture.Sample");
        Assert.Contains(violations, v => v.Contains("Sample.Store.SampleConnections → ProfileUpdate.Tests.Architecture.Sample.Updates", StringComparison.Ordinal));
        Assert.Contains(violations, v => v.Contains("Sample.Bulk.SampleBatch → ProfileUpdate.Tests.Architecture.Sample.Updates", StringComparison.Ordinal));
        Assert.DoesNotContain(violations, v => v.Contains("Sample.Updates.SampleQueue", StringComparison.Ordinal));
    }
}
