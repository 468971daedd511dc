namespace ProfileUpdate.Api.Text;

/// <summary>One decoded <c>name=value</c> pair of a query string or form body.</summary>
public readonly record struct UrlParameter(string Name, string Value);
