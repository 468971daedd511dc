using System.Text;
using BenchmarkDotNet.Attributes;
using ProfileUpdate.Api.Configuration;
using ProfileUpdate.Api.Text;
using ProfileUpdate.Api.Updates;

namespace ProfileUpdate.Benchmarks.Micro;

/// <summary>
/// The endpoint's parsing of one single update (UpdateHandler.ParseAsync): the query string, a form body, then the
/// validated request. Lists are fresh per call because the endpoint allocates them per request; reusing them here would
/// hide an allocation the service really makes.
/// </summary>
[MemoryDiagnoser]
public class ParsingBenchmarks
{
    /// <summary>As Kestrel hands it over in <c>request.QueryString.Value</c>: still escaped, with the leading '?'.</summary>
    private const string Query = "?mbox3rdPartyId=customer-0001234&profile.tier=gold&profile.city=San%20Jose&profile.score=42";

    private static readonly List<UrlParameter> NoParameters = [];
    private readonly LimitsOptions _limits = new();
    private byte[] _body = [];
    private List<UrlParameter> _queryParameters = [];
    private List<UrlParameter> _bodyParameters = [];

    [GlobalSetup]
    public void Setup()
    {
        _body = FormBody(minBytes: 1024);
        _queryParameters = [];
        _bodyParameters = [];
        // The benchmarks measure the success path; an input the parser refuses would measure the error path instead.
        Check(UrlEncodedParser.Parse(Query, _queryParameters, "query string"));
        Check(UrlEncodedParser.Parse(_body, _bodyParameters, "body"));
        Check(UpdateRequestParser.Parse(_queryParameters, NoParameters, _limits).Error);
        Check(UpdateRequestParser.Parse(NoParameters, _bodyParameters, _limits).Error);
    }

    /// <summary>GET: the string overload the endpoint calls for the query (UTF-8 encode into a pooled buffer, then decode).</summary>
    [Benchmark]
    public List<UrlParameter> QueryString()
    {
        var query = new List<UrlParameter>();
        UrlEncodedParser.Parse(Query, query, "query string");
        return query;
    }

    /// <summary>POST: the byte overload the endpoint calls on the body it read, here about 1 KB with escapes to decode.</summary>
    [Benchmark]
    public List<UrlParameter> FormBody1KB()
    {
        var body = new List<UrlParameter>();
        UrlEncodedParser.Parse(_body, body, "body");
        return body;
    }

    /// <summary>Validation of the decoded GET parameters into an UpdateRequest (identity + 3 attributes).</summary>
    [Benchmark]
    public Parsed<UpdateRequest> UpdateRequestFromQuery() => UpdateRequestParser.Parse(_queryParameters, NoParameters, _limits);

    /// <summary>Validation of the decoded 1 KB POST body (identity + ~20 attributes; the body path also checks for duplicates against the query).</summary>
    [Benchmark]
    public Parsed<UpdateRequest> UpdateRequestFromBody() => UpdateRequestParser.Parse(NoParameters, _bodyParameters, _limits);

    /// <summary>A typical CRM form post: a thirdPartyId, then attributes with spaces, '+' and UTF-8 escapes, up to the size asked for.</summary>
    private static byte[] FormBody(int minBytes)
    {
        var text = new StringBuilder("mbox3rdPartyId=customer-0001234");
        for (var i = 0; text.Length < minBytes; i++)
            text.Append("&profile.attribute").Append(i.ToString("D2", System.Globalization.CultureInfo.InvariantCulture))
                .Append(i % 3 == 0 ? "=K%C3%B6ln+Innenstadt" : i % 3 == 1 ? "=San%20Jose%2C%20CA" : "=plain-value-1234");
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    private static void Check(string? error)
    {
        if (error is not null) throw new InvalidOperationException($"Benchmark input is refused by the parser: {error}");
    }
}
