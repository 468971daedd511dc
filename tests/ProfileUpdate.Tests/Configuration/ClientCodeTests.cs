using ProfileUpdate.Api.Configuration;
using Xunit;

namespace ProfileUpdate.Tests.Configuration;

public sealed class ClientCodeTests
{
    [Theory]
    [InlineData("demo", true)]
    [InlineData("a", true)]
    [InlineData("Demo_client-1", true)]
    [InlineData("demo\n", false)] // "$" would have matched before the newline
    [InlineData("-demo", false)]
    [InlineData("_demo", false)]
    [InlineData("de mo", false)]
    [InlineData("de:mo", false)]
    [InlineData("de{mo}", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Client_codes_follow_the_spec_pattern(string? code, bool valid) => Assert.Equal(valid, ClientCode.IsValid(code));

    [Fact]
    public void Sixty_four_characters_at_most() =>
        Assert.Equal((true, false), (ClientCode.IsValid(new string('a', 64)), ClientCode.IsValid(new string('a', 65))));
}
