using ProfileUpdate.Api.Store;

namespace ProfileUpdate.Tests.Store;

public sealed class RedisKeysTests
{
    // A profile's partition is part of its key: these values must never change, or every stored profile is lost.
    [Theory]
    [InlineData("a1b2c3d4e5f60718293a4b5c6d7e8f90", 64, 27)]
    [InlineData("visitor-1", 64, 31)]
    [InlineData("Köln-äöü", 64, 3)]
    [InlineData("a1b2c3d4e5f60718293a4b5c6d7e8f90", 1024, 219)]
    public void A_profile_s_partition_is_pinned_forever(string tntBase, int partitions, int expected) =>
        Assert.Equal(expected, RedisKeys.Partition(tntBase, partitions));

    [Fact]
    public void Profiles_spread_evenly_over_the_partitions()
    {
        var counts = new int[64];
        for (var i = 0; i < 64_000; i++) counts[RedisKeys.Partition(Guid.NewGuid().ToString("N"), 64)]++;
        Assert.All(counts, c => Assert.InRange(c, 800, 1200)); // 1,000 each on average; ±20 % is > 6 standard deviations
    }

    [Fact]
    public void A_profile_and_its_partition_s_change_log_share_a_hash_tag()
    {
        var tntBase = "0123456789abcdef0123456789abcdef";
        var partition = RedisKeys.Partition(tntBase, 64);
        var profile = RedisKeys.Profile("demo", tntBase, 64);
        Assert.Equal($"pu:{{demo:p{partition}}}:t:{tntBase}", profile);
        Assert.Equal($"pu:c:{{demo:p{partition}}}", RedisKeys.ChangeLog("demo", partition));
        Assert.Equal("pu:{demo:p0}:t:" + tntBase, RedisKeys.Profile("demo", tntBase, 1));
        // A tntId with braces cannot move the hash tag: the client code (no braces) and the partition are the tag.
        Assert.StartsWith("pu:{demo:p", RedisKeys.Profile("demo", "}{x}", 64), StringComparison.Ordinal);
    }

    [Fact]
    public void An_apply_call_s_reply_marker_shares_its_partition_s_hash_tag_outside_the_profile_data_names()
    {
        var tntBase = "0123456789abcdef0123456789abcdef";
        var partition = RedisKeys.Partition(tntBase, 64);
        var marker = RedisKeys.ApplyReply("demo", partition, "abc1");
        Assert.Equal($"pu:r:{{demo:p{partition}}}:abc1", marker);
        Assert.Equal(Tag(RedisKeys.Profile("demo", tntBase, 64)), Tag(marker));
        // Scans for a client's profile data ("pu:{<client>:*") never see a marker.
        Assert.False(marker.StartsWith("pu:{demo:", StringComparison.Ordinal));

        static string Tag(string key) => key[key.IndexOf('{', StringComparison.Ordinal)..(key.IndexOf('}', StringComparison.Ordinal) + 1)];
    }
}
