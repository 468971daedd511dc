namespace ProfileUpdate.Api.Http;

/// <summary>Text echoed into XML answers.</summary>
public static class XmlText
{
    /// <summary>
    /// XML 1.0 cannot carry control characters, U+FFFE/U+FFFF or lone surrogates, and echoed text (ids, header names,
    /// batch ids) may contain them: they are shown as U+FFFD instead of failing the response.
    /// </summary>
    public static string Safe(string value) =>
        string.Create(value.Length, value, static (span, s) =>
        {
            for (var i = 0; i < s.Length; i++)
            {
                if (i + 1 < s.Length && System.Xml.XmlConvert.IsXmlSurrogatePair(s[i + 1], s[i]))
                {
                    span[i] = s[i];
                    span[i + 1] = s[i + 1];
                    i++;
                    continue;
                }
                span[i] = System.Xml.XmlConvert.IsXmlChar(s[i]) ? s[i] : '\uFFFD';
            }
        });
}
