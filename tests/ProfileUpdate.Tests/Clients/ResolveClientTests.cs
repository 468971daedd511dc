using Microsoft.AspNetCore.Http;
using ProfileUpdate.Api.Clients;

namespace ProfileUpdate.Tests.Clients;

public sealed class ResolveClientTests
{
    private static string? Resolve(string? query, string? host, string? defaultClient)
    {
        var context = new DefaultHttpContext();
        if (query is not null) context.Request.QueryString = new QueryString(query);
        if (host is not null) context.Request.Host = new HostString(host);
        return ClientFilter.Resolve(context, ClientSource.QueryOrHost, defaultClient);
    }

    [Fact]
    public void Client_query_parameter_is_used()
    {
        Assert.Equal("demo", Resolve("?client=demo&sessionId=s1", "localhost", null));
    }

    [Fact]
    public void Client_query_parameter_wins_over_host_and_default()
    {
        Assert.Equal("fromquery", Resolve("?imsOrgId=x&client=fromquery", "fromhost.tt.omtrdc.net", "fromdefault"));
    }

    [Fact]
    public void Client_query_parameter_is_url_decoded()
    {
        Assert.Equal("my-client", Resolve("?client=my%2Dclient", null, null));
    }

    [Theory]
    [InlineData("?client=")]
    [InlineData("?client")]
    [InlineData("?sessionId=s1&imsOrgId=ABC%40AdobeOrg")]
    public void Empty_or_absent_client_parameter_falls_back_to_the_host(string query)
    {
        Assert.Equal("demo", Resolve(query, "demo.tt.omtrdc.net", "fallback"));
    }

    [Theory]
    [InlineData("demo.tt.omtrdc.net", "demo")]
    [InlineData("demo.tt.example.com", "demo")]
    [InlineData("acme.example.com", "acme")]
    [InlineData("Acme-1.a.b.c.d", "Acme-1")]
    public void Leftmost_label_of_a_host_with_three_or_more_labels_is_the_client(string host, string expected)
    {
        Assert.Equal(expected, Resolve(null, host, "fallback"));
    }

    [Theory]
    [InlineData("demo.tt.omtrdc.net.")]
    [InlineData("demo.tt.omtrdc.net.:8443")]
    public void A_fully_qualified_host_with_its_trailing_dot_names_the_same_client(string host)
    {
        Assert.Equal("demo", Resolve(null, host, "fallback"));
    }

    [Fact]
    public void A_route_placeholder_resolves_a_fully_qualified_host_too()
    {
        var context = new DefaultHttpContext();
        context.Request.Host = new HostString("demo.tt.omtrdc.net.");
        context.Request.RouteValues["client"] = ClientFilter.Placeholder;
        Assert.Equal("demo", ClientFilter.Resolve(context, ClientSource.Route, defaultClient: null));
    }

    [Fact]
    public void Port_is_not_part_of_the_host()
    {
        Assert.Equal("demo", Resolve("?sessionId=1", "demo.tt.example.com:8443", null));
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("localhost:5000")]
    [InlineData("example.com")]
    [InlineData("example.com:8080")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:5000")]
    [InlineData("10.1.2.3")]
    [InlineData("[::1]")]
    [InlineData("[::1]:5000")]
    [InlineData("[2001:db8::1]:443")]
    [InlineData("a..b")]
    [InlineData(".a.b")]
    [InlineData("a.b.")] // two labels once the root's dot is dropped
    [InlineData("a.b.c..")] // only one trailing dot is the root's
    public void Ip_addresses_short_hosts_and_empty_labels_give_the_default_client(string host)
    {
        Assert.Equal("fallback", Resolve(null, host, "fallback"));
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("example.com")]
    [InlineData("192.168.0.10")]
    [InlineData("[::1]")]
    public void Without_a_default_there_is_no_client(string host)
    {
        Assert.Null(Resolve(null, host, null));
    }

    [Fact]
    public void No_query_and_no_host_give_the_default_client()
    {
        Assert.Equal("fallback", Resolve(null, null, "fallback"));
        Assert.Null(Resolve(null, null, null));
    }
}
