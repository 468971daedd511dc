using System.Text;
using ProfileUpdate.Api.Bulk;
using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Profiles;

namespace ProfileUpdate.Tests.Bulk;

/// <summary>The bulk erase file (docs/api.md §2, "Bulk erase"): the id column alone, one id per row; its spool name keeps its kind.</summary>
public sealed class EraseFileTests
{
    [Theory]
    [InlineData("batch=thirdPartyId", IdentityKind.ThirdPartyId)]
    [InlineData("batch=MBOX3RDPARTYID\r", IdentityKind.ThirdPartyId)]
    [InlineData("\uFEFFbatch=pcId", IdentityKind.TntId)]
    [InlineData("batch=mboxPC", IdentityKind.TntId)]
    public void The_header_names_the_id_column_in_any_of_its_spellings(string line, IdentityKind kind)
    {
        var (header, error) = BatchFileParser.ParseEraseHeader(Encoding.UTF8.GetBytes(line));
        Assert.Null(error);
        Assert.Equal(kind, header!.IdKind);
        Assert.Empty(header.AttributeNames);
    }

    [Theory]
    [InlineData("batch=thirdPartyId,tier", "'tier'")]
    [InlineData("batch=pcId,a,b%2Cc", "'a', 'b,c'")]
    [InlineData("batch=ecid", "Experience Cloud ID")]
    [InlineData("batch=", "first header column")]
    [InlineData("thirdPartyId", "must start with 'batch='")]
    [InlineData("batch=third%ZZ", "Header column 1")]
    [InlineData("batch=thirdPartyId,", "empty column after the id column")] // not "remove the attribute columns ''"
    [InlineData("batch=pcId,,", "empty column after the id column")]
    public void Attribute_columns_and_bad_headers_are_refused_by_name(string line, string expected)
    {
        var (header, error) = BatchFileParser.ParseEraseHeader(Encoding.UTF8.GetBytes(line));
        Assert.Null(header);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_row_holds_one_id_only()
    {
        var header = BatchFileParser.ParseEraseHeader("batch=thirdPartyId"u8).Value!;
        var limits = new LimitsOptions();
        Assert.Equal("crm-1", BatchFileParser.ParseRow("crm-1"u8, 2, header, limits).Id);
        Assert.True(BatchFileParser.ParseRow("crm-1,gold"u8, 3, header, limits).Failed);
        Assert.True(BatchFileParser.ParseRow("a%2Fb"u8, 4, header, limits).Failed);
    }
}
