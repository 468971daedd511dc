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
        cache.Add("a", "crm-3", "t3"); // full: a least recently used link makes room for the new one
        Assert.True(cache.TryGet("a", "crm-3", out _));
        Assert.Equal(3, cache.Count);
    }

    [Fact]
    public void Keeps_the_links_in_use_when_full()
    {
        var cache = Cache(1000);
        for (var i = 0; i < 100; i++) cache.Add("a", $"hot-{i}", $"t{i}");
        for (var round = 0; round < 200; round++)
        {
            for (var i = 0; i < 100; i++) Assert.True(cache.TryGet("a", $"hot-{i}", out _), $"hot-{i} evicted in round {round}");
            for (var i = 0; i < 50; i++) cache.Add("a", $"cold-{round}-{i}", "t"); // a stream of one-off visitors
        }
        Assert.True(cache.Count <= 1000);
    }

    [Fact]
    public void Size_zero_turns_it_off()
    {
        var cache = Cache(0);
        cache.Add("a", "crm-1", "t1");
        Assert.False(cache.TryGet("a", "crm-1", out _));
    }
}
