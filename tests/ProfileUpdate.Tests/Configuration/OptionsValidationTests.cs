using ProfileUpdate.Api.Configuration;
using Xunit;

namespace ProfileUpdate.Tests.Configuration;

public sealed class OptionsValidationTests
{
    private static readonly CrossFieldOptionsValidator Validator = new();

    [Fact]
    public void The_defaults_are_valid() => Assert.True(Validator.Validate(null, new ProfileUpdateOptions()).Succeeded);

    [Theory]
    [InlineData("00:00:02", "00:00:02")]
    [InlineData("00:00:00.300", "00:00:01.500")]
    public void A_reconnect_grace_not_shorter_than_the_request_timeout_is_refused_naming_both(string requestTimeout, string grace)
    {
        var options = new ProfileUpdateOptions();
        options.Applier.RequestTimeout = TimeSpan.Parse(requestTimeout, System.Globalization.CultureInfo.InvariantCulture);
        options.Store.ReconnectGrace = TimeSpan.Parse(grace, System.Globalization.CultureInfo.InvariantCulture);
        var result = Validator.Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains("ProfileUpdate:Store:ReconnectGrace", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("ProfileUpdate:Applier:RequestTimeout", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("-00:00:05")]
    [InlineData("00:00:00.500")]
    [InlineData("3651.00:00:00")]
    public void A_profile_lifetime_out_of_bounds_is_refused_naming_the_setting(string lifetime)
    {
        var options = new ProfileUpdateOptions();
        options.Profiles.Lifetime = TimeSpan.Parse(lifetime, System.Globalization.CultureInfo.InvariantCulture);
        var result = Validator.Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains("ProfileUpdate:Profiles:Lifetime", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:00:01")]
    [InlineData("14.00:00:00")]
    [InlineData("3650.00:00:00")]
    public void A_profile_lifetime_within_bounds_is_accepted(string lifetime)
    {
        var options = new ProfileUpdateOptions();
        options.Profiles.Lifetime = TimeSpan.Parse(lifetime, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(Validator.Validate(null, options).Succeeded);
    }

    [Fact]
    public void A_shorter_reconnect_grace_is_accepted()
    {
        var options = new ProfileUpdateOptions();
        options.Applier.RequestTimeout = TimeSpan.FromMilliseconds(300);
        options.Store.ReconnectGrace = TimeSpan.FromMilliseconds(100);
        Assert.True(Validator.Validate(null, options).Succeeded);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(48)]
    [InlineData(2048)]
    public void Partitions_that_are_not_a_power_of_two_up_to_1024_are_refused_naming_the_setting(int partitions)
    {
        var options = new ProfileUpdateOptions();
        options.Profiles.Partitions = partitions;
        var result = Validator.Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains("ProfileUpdate:Profiles:Partitions", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(1024)]
    public void Partitions_that_are_a_power_of_two_up_to_1024_are_accepted(int partitions)
    {
        var options = new ProfileUpdateOptions();
        options.Profiles.Partitions = partitions;
        Assert.True(Validator.Validate(null, options).Succeeded);
    }
}
