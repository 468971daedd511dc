using Microsoft.Extensions.DependencyInjection;
using ProfileUpdate.Api.Bulk;
using ProfileUpdate.Api.Profiles;
using ProfileUpdate.IntegrationTests.Infrastructure;

namespace ProfileUpdate.IntegrationTests;

/// <summary>
/// <c>profilesCreated</c> (docs/api.md §2) counts each profile once, by the one row that created it, even when two v2
/// batches create the same new thirdPartyIds at once: one of them makes the link, the other resolves it and its write
/// may reach the profile first.
/// </summary>
public sealed class BulkCreatedCountTests(RedisServiceFixture fixture) : IClassFixture<RedisServiceFixture>
{
    [SkippableFact]
    public async Task A_profile_written_first_by_the_batch_that_did_not_make_its_link_is_counted_created_once()
    {
        Skip.If(fixture.SkipReason is not null, fixture.SkipReason);
        var repository = fixture.Services.GetRequiredKeyedService<ProfileRepository>(BulkProcessor.StoreLane);
        var client = Wire.NewClient();
        var (tnt, _) = await repository.LinkThirdPartyAsync(client, "crm-raced", VisitorIds.NewTntId());
        ProfileWrite Row(string value) => new(client, tnt, "crm-raced", WriteMode.CreateIfMissing, [new ProfileAttribute("tier", value)]);

        // The order the race produces: the batch that only resolved the link writes first, then the one that made it.
        var resolved = new WriteResult[1];
        await repository.UpsertAsync([Row("silver")], [false], resolved, WriteStamp.At(TimeProvider.System));
        var linked = new WriteResult[1];
        await repository.UpsertAsync([Row("gold")], [true], linked, WriteStamp.At(TimeProvider.System), [$"{client}-1-00000000:2"]);

        Assert.Equal((WriteResult.Created, WriteResult.Applied), (resolved[0], linked[0]));
        Assert.Equal("gold", Wire.Attribute((await Wire.ReadByThirdPartyAsync(fixture.Client, client, "crm-raced"))!.Value, "tier"));
    }
}
