using Microsoft.Extensions.Options;
using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Tests.Profiles;

public sealed class LinkCacheTests
{
    private static LinkCache Cache(int size) =>
        new(Options.Create(new ProfileUpdateOptions { Profiles = new ProfilesOptions { LinkCacheSize = size } }));

    [Fact]
    public void Remembers_links_per_client()
    {
        var cache = Cache(10);
        cache.Add("a", "crm-1", "t1");
        Assert.True(cache.TryGet("a", "crm-1", out var tnt));
        Assert.Equal("t1", tnt);
        Assert.False(cache.TryGet("b", "crm-1", out _)); // another client's id of the same text is another visitor
    }

    [Fact]
    public void Forgets_a_link_on_request()
    {
        var cache = Cache(10);
        cache.Add("a", "crm-1", "t1");
        cache.Forget("a", "crm-1");
        Assert.False(cache.TryGet("a", "crm-1", out _));
    }

    [Fact]
    public void Never_holds_more_than_its_size()
    {
        var cache = Cache(3);
        for (var i = 0; i < 3; i++) cache.Add("a", $"crm-{i}", $"t{i}");
        Assert.True(cache.TryGet("a", "crm-2", out _));
        cache.Add("a", "crm-3", "t3"); // full: starts over with the new link
        Assert.True(cache.TryGet("a", "crm-3", out _));
        Assert.False(cache.TryGet("a", "crm-0", out _));
    }

    [Fact]
    public void Size_zero_turns_it_off()
    {
        var cache = Cache(0);
        cache.Add("a", "crm-1", "t1");
        Assert.False(cache.TryGet("a", "crm-1", out _));
    }
}
